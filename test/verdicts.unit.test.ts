import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { probePlan, UsageError } from '../src/cli/options.js';

describe('--expect against --range', () => {
  test('versions expected but outside the probed range are a usage error naming them', () => {
    assert.throws(
      () => probePlan({ range: '8-9', expect: '2-21' }, ['127.0.0.1']),
      (err: unknown) =>
        err instanceof UsageError &&
        /^--expect: MSNP2-MSNP7, MSNP10-MSNP21 are outside --range MSNP8-MSNP9 \(never probed\)/.test(err.message),
    );
    assert.throws(() => probePlan({ range: '8,10', expect: '8-10' }, ['127.0.0.1']), /MSNP9 is outside --range/);
  });
  test('an expectation inside the range, the default range, or `none` is fine', () => {
    assert.deepEqual(probePlan({ range: '8-18', expect: '11-12,14-16' }, ['127.0.0.1']).expect, [11, 12, 14, 15, 16]);
    assert.deepEqual(probePlan({ expect: '2-21' }, ['127.0.0.1']).expect?.length, 20);
    assert.deepEqual(probePlan({ range: '8-9', expect: 'none' }, ['127.0.0.1']).expect, []);
  });
});

import { compareBaseline, parseBaseline, type BaselineTarget } from '../src/verdict/baseline.js';
import { baselineLines } from '../src/report/render/lines.js';
import type { TargetReport, VersionProbe, OfferProbe } from '../src/probe/probe.js';
import type { DeepMeasured } from '../src/probe/version-probe.js';
import { targetReport as reportOf } from './fixtures.js';

const accepted = (version: number, deep?: Partial<DeepMeasured>): VersionProbe => ({
  version,
  status: 'accepted',
  reply: `VER 1 MSNP${version}`,
  versions: [version],
  cvr0: false,
  elapsedMs: 1,
  bytesReceived: 12,
  ...(deep ? { deep: { decidedBy: 'USR', steps: [], payloads: [], elapsedMs: 1, ...deep } as DeepMeasured } : {}),
});
const offerOf = (offered: number[], chosen: number): OfferProbe => ({
  offered: [...offered].sort((a, b) => b - a),
  status: 'accepted',
  reply: `VER 1 MSNP${chosen}`,
  version: chosen,
  versions: [chosen],
  cvr0: false,
  elapsedMs: 1,
  bytesReceived: 12,
});
const targetReport = (probes: VersionProbe[], offer: OfferProbe | null): TargetReport =>
  reportOf(probes, { offer, preferred: offer?.status === 'accepted' ? offer.version : null, answered: true });
/** A report as a later run reads it back from a file. */
const asBaseline = (r: TargetReport): BaselineTarget => {
  const entry = parseBaseline(JSON.stringify(r)).get('127.0.0.1|1863');
  assert.ok(entry);
  return entry;
};
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('--baseline compares only what both runs measured the same way', () => {
  test('another --range: the preferred versions of different offers are not compared', () => {
    const then = targetReport(
      range(2, 21).map((v) => accepted(v)),
      offerOf(range(2, 21), 18),
    );
    const now = targetReport([accepted(8), accepted(14)], offerOf([8, 14], 14));
    const b = compareBaseline(now, asBaseline(then));
    assert.equal(b.preferred, null);
    assert.equal(b.preferredNotCompared, 'different-offer');
    assert.equal(b.met, true);
    assert.deepEqual(b.differences, []);
    assert.match(baselineLines(b).join('\n'), /preferred version not compared/);
  });
  test('the same offer: a new preferred version still fails', () => {
    const then = targetReport([accepted(8), accepted(14)], offerOf([8, 14], 14));
    const now = targetReport([accepted(8), accepted(14)], offerOf([8, 14], 8));
    const b = compareBaseline(now, asBaseline(then));
    assert.deepEqual(b.preferred, { before: 14, after: 8 });
    assert.equal(b.preferredNotCompared, undefined);
    assert.equal(b.met, false);
  });
  test('per version, only versions both runs probed', () => {
    const then = targetReport([accepted(8), accepted(9)], offerOf([8, 9], 9));
    const rejected: VersionProbe = {
      ...accepted(10),
      status: 'rejected',
      reply: 'VER 1 0',
      form: 'zero',
      serverVersions: [],
    };
    const now = targetReport([accepted(9), rejected], offerOf([9, 10], 9));
    const b = compareBaseline(now, asBaseline(then));
    assert.deepEqual(b.differences, []);
    assert.equal(b.met, true);
  });
});

describe('--deep --baseline: the login outcome is part of the comparison', () => {
  const confirmed = { session: 'confirmed', login: 'notification' } as const;
  const claimed = { session: 'claimed-only', login: 'closed' } as const;
  test('20 of 20 confirmed, then 0 of 20: twenty differences, exit-worthy', () => {
    const then = targetReport(
      range(2, 21).map((v) => accepted(v, confirmed)),
      null,
    );
    const now = targetReport(
      range(2, 21).map((v) => accepted(v, claimed)),
      null,
    );
    const b = compareBaseline(now, asBaseline(then));
    assert.equal(b.met, false);
    assert.equal(b.differences.length, 20);
    const before = 'accepted/confirmed/notification';
    const after = 'accepted/claimed-only/closed';
    assert.deepEqual(b.differences[0], { version: 2, before, after });
    assert.equal(baselineLines(b)[0], `baseline DIFFERENCE MSNP2: ${before} -> ${after}`);
  });
  test('a login that timed out or met a busy code is inconclusive; error codes are told apart', () => {
    const refused = { session: 'claimed-only', login: 'error', code: 911 } as const;
    const then = targetReport([accepted(8, confirmed), accepted(9, confirmed), accepted(10, refused)], null);
    const now = targetReport(
      [
        accepted(8, { session: 'claimed-only', login: 'timeout' }),
        accepted(9, { session: 'claimed-only', login: 'error', code: 600 }),
        accepted(10, { session: 'claimed-only', login: 'error', code: 913 }),
      ],
      null,
    );
    const b = compareBaseline(now, asBaseline(then));
    assert.deepEqual(
      b.inconclusive.map((c) => c.version),
      [8, 9],
    );
    const change = { version: 10, before: 'accepted/claimed-only/error 911', after: 'accepted/claimed-only/error 913' };
    assert.deepEqual(b.differences, [change]);
  });
  test('only one run went deep: compared by VER status as before', () => {
    const then = targetReport([accepted(8)], null);
    const now = targetReport([accepted(8, claimed)], null);
    assert.equal(compareBaseline(now, asBaseline(then)).met, true);
    assert.equal(compareBaseline(then, asBaseline(now)).met, true);
  });
  test('a login verdict in a baseline file that is not a word is refused', () => {
    const bad = { ...targetReport([accepted(8, confirmed)], null) };
    const text = JSON.stringify(bad).replace('"notification"', '"\\u001b[2J"');
    assert.throws(() => parseBaseline(text), /not an msnp-probe report/);
  });
});
