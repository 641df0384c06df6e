import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { probe, type TargetReport } from '../src/probe/probe.js';
import { REMESSENGER_ACCOUNTS } from '../src/emulator/profiles.js';
import { withEmulator, range } from './helpers.js';

/** `--deep` verdicts against the emulated servers, which answer as the real ones were seen to. */
async function deepReport(profile: string, versions: number[], handle?: string): Promise<TargetReport> {
  return withEmulator({ profile, port: 0 }, (emulator) =>
    probe({
      host: emulator.host,
      port: emulator.port,
      versions,
      deep: true,
      timeoutMs: 15_000,
      offer: false,
      ...(handle !== undefined ? { handle } : {}),
    }),
  );
}

const sessions = (report: TargetReport): Record<number, string | undefined> =>
  Object.fromEntries(report.probes.map((p) => [p.version, p.deep?.session]));

describe('--deep against the remessenger profile (LivePulse)', () => {
  test('the made-up handle is account-refused, not a disabled method; CTP is never attempted', async () => {
    const report = await deepReport('remessenger', range(2, 22));
    const s = sessions(report);
    assert.equal(s[2], 'claimed-only');
    assert.equal(report.probes[0]?.deep?.login, 'not-attempted');
    for (const v of range(3, 20)) assert.equal(s[v], 'account-refused', `MSNP${v}`);
    // No method works at 21-22: the SSO step is a method that does not fit (502), not an account refusal.
    for (const v of [21, 22]) assert.equal(s[v], 'claimed-only', `MSNP${v}`);
  });

  test('a known handle is confirmed where a client could go on; SSO answered as TWN is flagged', async () => {
    const handle = REMESSENGER_ACCOUNTS[0];
    assert.ok(handle, 'the profile names a known account');
    const report = await deepReport('remessenger', range(2, 22), handle);
    const s = sessions(report);
    for (const v of range(3, 14)) assert.equal(s[v], 'confirmed', `MSNP${v}`);
    for (const v of range(15, 20)) {
      const p = report.probes.find((x) => x.version === v);
      assert.equal(p?.deep?.session, 'claimed-only', `MSNP${v}`);
      assert.equal(p?.deep?.auth?.methodMismatch, true, `MSNP${v}`);
    }
    assert.equal(s[2], 'claimed-only');
  });
});

describe('--deep against the escargot profile', () => {
  test('every version 2-21 is confirmed with the default handle (Escargot answers any handle with @)', async () => {
    const report = await deepReport('escargot', range(2, 21));
    for (const v of range(2, 21)) assert.equal(sessions(report)[v], 'confirmed', `MSNP${v}`);
  });
});
