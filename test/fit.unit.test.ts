import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clipText, displayWidth, wrapText } from '../src/core/fit.js';
import { escapeText } from '../src/core/escape.js';
import { renderTarget } from '../src/report/render/text.js';
import { terminalWidth } from '../src/cli/io.js';
import type { VersionProbe } from '../src/core/model.js';
import { targetReport } from './fixtures.js';

/** Escaped text as its units: every escape whole. */
const UNITS = /\\(?:x[0-9a-f]{2}|u\{[0-9a-f]+\}|[\\rnt])|[^\\]/gy;
function wholeUnits(text: string): boolean {
  UNITS.lastIndex = 0;
  let at = 0;
  for (const m of text.matchAll(UNITS)) at = (m.index ?? 0) + m[0].length;
  return at === text.length;
}

describe('clipText', () => {
  const raw = 'VER 1 \x1b[2J\r\n\u00ff\\ end';
  const escaped = escapeText(raw);
  test('never cuts inside an escape, at any width', () => {
    for (let max = 1; max <= escaped.length + 2; max++) {
      const clipped = clipText(escaped, max);
      assert.ok(displayWidth(clipped) <= max, `width ${max}: ${clipped}`);
      const body = clipped.endsWith('…') && clipped !== escaped ? clipped.slice(0, -1) : clipped;
      assert.ok(wholeUnits(body), `width ${max}: '${body}' ends inside an escape`);
      assert.ok(escaped.startsWith(body), `width ${max}: '${body}' is the start of the text`);
    }
  });
  test('text that fits is left alone', () => {
    assert.equal(clipText(escaped, escaped.length), escaped);
  });
});

describe('wrapText', () => {
  test('lines fit, continuation lines are indented, no word is lost', () => {
    const text = `accepts MSNP8-MSNP16 (9 of 20); prefers MSNP16; ${'x'.repeat(50)}\\x1b${'y'.repeat(30)} done`;
    const lines = wrapText(text, 40);
    for (const line of lines) assert.ok(displayWidth(line) <= 40, line);
    for (const line of lines.slice(1)) assert.ok(line.startsWith('  '), line);
    assert.equal(lines.join('').replaceAll(' ', ''), text.replaceAll(' ', ''));
    assert.ok(
      lines.some((l) => l.includes('\\x1b')),
      'the escape stays whole on one line',
    );
  });
  test('no width: one line, unchanged', () => {
    assert.deepEqual(wrapText('a b c', null), ['a b c']);
  });
  test('an indented line keeps its indent', () => {
    assert.equal(wrapText(`    ${'word '.repeat(20)}`, 40)[0]?.startsWith('    word'), true);
  });
});

describe('terminalWidth', () => {
  const cases: [string, { isTTY?: boolean; columns?: number }, Record<string, string>, number | null][] = [
    ['a terminal', { isTTY: true, columns: 80 }, {}, 80],
    ['a terminal beats COLUMNS', { isTTY: true, columns: 100 }, { COLUMNS: '60' }, 100],
    ['a pipe', {}, {}, null],
    ['a pipe with COLUMNS', {}, { COLUMNS: '72' }, 72],
    ['a terminal of unknown width with COLUMNS', { isTTY: true }, { COLUMNS: '90' }, 90],
    ['below the floor', { isTTY: true, columns: 30 }, {}, null],
    ['COLUMNS not a number', {}, { COLUMNS: 'wide' }, null],
  ];
  for (const [what, stream, env, expected] of cases) {
    test(what, () => assert.equal(terminalWidth(stream, env), expected));
  }
});

describe('renderTarget fits the width', () => {
  const hostile = `${'A'.repeat(44)}\x1b[31mBBBB`;
  const probes = [
    {
      version: 8,
      status: 'accepted',
      reply: 'VER 1 MSNP8',
      versions: [8],
      cvr0: false,
      elapsedMs: 1,
      bytesReceived: 11,
    },
    {
      version: 9,
      status: 'closed',
      reply: hostile,
      out: `${'OUT reason '.repeat(6)}\x07`,
      elapsedMs: 1234,
      bytesReceived: 60,
    },
  ] as VersionProbe[];
  const report = targetReport(probes, { host: `a-very-long-host-name-for-a-table-heading-${'x'.repeat(40)}.invalid` });
  for (const width of [40, 60, 80]) {
    test(`${width} columns`, () => {
      const text = renderTarget(report, { color: true, width });
      for (const line of text.split('\n')) assert.ok(displayWidth(line) <= width, `${displayWidth(line)}: ${line}`);
      assert.match(text.replace(/\x1b\[[0-9;]*m/g, ''), /│ AAAA+… /, 'the reply is cut with an ellipsis');
    });
  }
  test('no width: the reply keeps its historical cut, never inside an escape', () => {
    const text = renderTarget(report, { color: false });
    assert.ok(text.includes(`${'A'.repeat(44)}...`), 'cut before the escape');
    assert.ok(!text.includes('\\x1...') && !text.includes('\\...'), 'no escape cut in half');
  });
});
