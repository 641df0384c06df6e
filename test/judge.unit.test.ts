import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { judge, Tally, type Checks } from '../src/verdict/judge.js';
import { exitCode, EXIT_CODES } from '../src/verdict/exit-code.js';
import { parseBaseline } from '../src/verdict/baseline.js';
import type { TargetReport, VersionProbe } from '../src/probe/probe.js';
import { targetReport } from './fixtures.js';

const accepted = (version: number): VersionProbe => ({
  version,
  status: 'accepted',
  reply: `VER 1 MSNP${version}`,
  versions: [version],
  cvr0: false,
  elapsedMs: 1,
  bytesReceived: 12,
});
const local = (version: number, errno: string): VersionProbe =>
  ({ version, status: 'unreachable', reply: null, errno, reason: 'local', elapsedMs: 1, bytesReceived: 0 }) as const;
const refused = (version: number): VersionProbe =>
  ({ version, status: 'refused', reply: null, errno: 'ECONNREFUSED', elapsedMs: 1, bytesReceived: 0 }) as VersionProbe;

const report = (probes: VersionProbe[], host = '127.0.0.1'): TargetReport =>
  targetReport(probes, { host, address: host });
const none: Checks = { expect: null, baseline: null };

describe('judge(): one target, no I/O', () => {
  test('no checks: the document is the report, nothing failed', () => {
    const r = report([accepted(8), accepted(9)]);
    const j = judge(r, none);
    assert.deepEqual(j.doc, r);
    assert.equal(j.failed, false);
    assert.equal(j.silent, false);
    assert.deepEqual(j.localErrnos, []);
  });
  test('an expectation not met fails and is kept in the document', () => {
    const j = judge(report([accepted(8)]), { expect: [8, 9], baseline: null });
    assert.equal(j.failed, true);
    assert.deepEqual(j.doc.expectation?.missing, [9]);
    assert.equal(judge(report([accepted(8), accepted(9)]), { expect: [8, 9], baseline: null }).failed, false);
  });
  test('a baseline that differs fails; one that matches passes', () => {
    const then = report([accepted(8), accepted(9)]);
    const baseline = parseBaseline(JSON.stringify(then));
    assert.equal(judge(then, { expect: null, baseline }).failed, false);
    const now = judge(report([accepted(8), refused(9)]), { expect: null, baseline });
    assert.equal(now.failed, true);
    assert.equal(now.doc.baseline?.met, false);
  });
  test('silent unless the silence is this machine running out of descriptors', () => {
    assert.equal(judge(report([refused(8)]), none).silent, true);
    const j = judge(report([refused(8), local(9, 'EMFILE')]), none);
    assert.equal(j.silent, false);
    assert.deepEqual(j.localErrnos, ['EMFILE']);
  });
});

describe('Tally + exitCode(): the run verdict from judgements', () => {
  test('counts feed exitCode in its documented order', () => {
    const checks: Checks = { expect: [8], baseline: null };
    const t = new Tally();
    t.add(judge(report([accepted(8)]), checks));
    assert.equal(exitCode(t.summary(checks, {})), EXIT_CODES.ok);
    t.add(judge(report([refused(8)], '127.0.0.2'), checks));
    // The silent target also fails --expect: 1 wins over 3.
    assert.equal(exitCode(t.summary(checks, {})), EXIT_CODES.expectationNotMet);
    t.add(judge(report([local(8, 'EMFILE'), local(9, 'EMFILE')], '127.0.0.3'), checks));
    assert.equal(t.localErrors, 2);
    assert.equal(exitCode(t.summary(checks, {})), EXIT_CODES.localError);
  });
  test('a check over no target fails; no check over no target passes', () => {
    assert.equal(exitCode(new Tally().summary({ expect: [8], baseline: null }, {})), EXIT_CODES.expectationNotMet);
    assert.equal(exitCode(new Tally().summary(none, {})), EXIT_CODES.ok);
  });
});
