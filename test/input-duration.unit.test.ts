import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseDuration } from '../src/input/duration.js';
import { commonProbeOptions, servePlan, UsageError } from '../src/cli/options.js';
import { parseExporterConfig } from '../src/exporter/config.js';

describe('parseDuration', () => {
  const good: [string, number][] = [
    ['500', 500],
    ['0', 0],
    ['500ms', 500],
    ['5s', 5000],
    ['1.5s', 1500],
    ['0.25s', 250],
    ['1m', 60_000],
    ['1.5m', 90_000],
    [' 2s ', 2000],
    ['1.001s', 1001],
  ];
  for (const [text, ms] of good) {
    test(`${JSON.stringify(text)} is ${ms} ms`, () => assert.equal(parseDuration(text), ms));
  }
  const bad = ['5 s', '-1s', '-1', '1h30', '1h', 's', '', '5S', '1.5ms', '5sec', '1e3', '+5s', '1.5.5s', '0x10', '5s5'];
  for (const text of bad) {
    test(`refuses ${JSON.stringify(text)}`, () => assert.throws(() => parseDuration(text), RangeError));
  }
  test('the bounds are milliseconds whatever the unit', () => {
    assert.throws(() => parseDuration('11m', 0, 600_000), /11m \(660000 ms\) is outside 0\.\.600000 ms/);
    assert.equal(parseDuration('10m', 0, 600_000), 600_000);
    assert.throws(() => parseDuration('0s', 1), /outside 1\.\./);
  });
  test('property: a bare whole number is milliseconds, and N s is 1000 N ms', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999 }), (n) => {
        assert.equal(parseDuration(String(n)), n);
        assert.equal(parseDuration(`${n}ms`), n);
        assert.equal(parseDuration(`${n}s`), n * 1000);
      }),
    );
  });
});

describe('durations in options', () => {
  test('--timeout takes units', () => {
    assert.equal(commonProbeOptions({ timeout: '5s' }).scan.timeoutMs, 5000);
    assert.equal(commonProbeOptions({ timeout: '1500' }).scan.timeoutMs, 1500);
    const usage = (err: unknown): boolean => err instanceof UsageError && /^--timeout: /.test(err.message);
    assert.throws(() => commonProbeOptions({ timeout: '5 s' }), usage);
  });
  test('serve --delay and --idle-timeout take units', () => {
    const plan = servePlan({ delay: '250ms', 'idle-timeout': '2m' }, 1863);
    assert.equal(plan.delayMs, 250);
    assert.equal(plan.idleTimeoutMs, 120_000);
    assert.throws(() => servePlan({ delay: '-1s' }, 1863), /--delay: '-1s' is not/);
    assert.throws(() => servePlan({ 'idle-timeout': '1h30' }, 1863), /--idle-timeout: '1h30' is not/);
  });
  test('an exporter module timeout may be a duration', async () => {
    const config = await parseExporterConfig('modules:\n  quick:\n    timeout: 1.5s\n');
    assert.equal(config.modules.get('quick')?.timeoutMs, 1500);
    await assert.rejects(parseExporterConfig('modules:\n  quick:\n    timeout: 5 s\n'), /timeout: '5 s' is not/);
  });
});
