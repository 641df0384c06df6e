/**
 * Concepts written once: the run-of-versions helper behind both version lists, the one `error N`
 * label, and the one host-and-port key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { consecutiveRuns, formatVersions } from '../src/input/range.js';
import { compactVersions } from '../src/report/render/badge.js';
import { renderMatrixSvg } from '../src/report/render/svg.js';
import { answerLabel } from '../src/report/render/answer.js';
import { AllowList } from '../src/exporter/config.js';
import type { VersionProbe } from '../src/core/model.js';
import { targetReport } from './fixtures.js';

test('consecutive runs: every number once, ascending, split exactly where a number is missing', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 30 }), (numbers) => {
      const runs = consecutiveRuns(numbers);
      const expanded = runs.flatMap(([from, to]) => Array.from({ length: to - from + 1 }, (_, i) => from + i));
      assert.deepEqual(
        expanded,
        [...new Set(numbers)].sort((a, b) => a - b),
      );
      for (let i = 1; i < runs.length; i++) {
        assert.ok((runs[i]?.[0] ?? 0) > (runs[i - 1]?.[1] ?? 0) + 1, 'runs that touch are one run');
      }
      assert.equal(compactVersions(numbers), formatVersions(numbers).replaceAll('MSNP', ''));
    }),
    { numRuns: 200 },
  );
  assert.deepEqual(consecutiveRuns([12, 8, 9, 10, 9]), [
    [8, 10],
    [12, 12],
  ]);
  assert.equal(compactVersions([2, 3, 4, 8, 9, 21]), '2-4, 8-9, 21');
  assert.equal(formatVersions([8, 9, 10, 12]), 'MSNP8-MSNP10, MSNP12');
});

test("the SVG's cell title names an error as every other output does", () => {
  const error = {
    version: 8,
    status: 'error',
    reply: '600 1',
    code: 600,
    codeName: 'server is busy',
    trId: 1,
    busy: true,
    elapsedMs: 1,
    bytesReceived: 5,
  } as VersionProbe;
  const report = targetReport([error], { answered: true });
  const svg = renderMatrixSvg([report], { date: new Date(0) });
  assert.equal(answerLabel(error, false), 'error 600');
  assert.match(svg, /<title>127\.0\.0\.1:1863 MSNP8: error 600 — 600 1<\/title>/);
});

test('an allowed name and port matches that port only, whatever the case or a final dot', () => {
  const list = new AllowList();
  list.add('MSNP.test:1864');
  assert.ok(list.allows({ host: 'msnp.test', port: 1864 }));
  assert.ok(list.allows({ host: 'msnp.TEST.', port: 1864 }));
  assert.ok(!list.allows({ host: 'msnp.test', port: 1863 }));
  assert.ok(!list.allows({ host: 'other.test', port: 1864 }));
  list.add('any.test');
  assert.ok(list.allows({ host: 'any.test', port: 1 }));
});
