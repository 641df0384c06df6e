import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ESCARGOT_ERAS, PROFILE_NAMES } from '../src/emulator/profiles.js';
import { probe, type Gate } from '../src/probe/probe.js';
import { TRAIT_PROBES } from '../src/probe/fingerprint/traits.js';
import type { ReportDocument } from '../src/report/render/json.js';
import { closedPort, runBin, withEmulator, checkDocument } from './helpers.js';

/**
 * Silent answers (a server that ignores a line) take the whole deadline, so it must be long
 * enough that a real answer on a loaded machine is never taken for silence.
 */
const TIMEOUT_MS = 4000;
/** Runs the executable with --fingerprint and the deadline above. */
const fpBin = (args: string[]): ReturnType<typeof runBin> =>
  runBin([...args, '--fingerprint', '--timeout', String(TIMEOUT_MS)], { timeoutMs: 60_000 });

const PROFILES_TO_NAME = [...PROFILE_NAMES, ...ESCARGOT_ERAS.map((e) => `escargot@${e.from}`)];

describe('every emulator profile is fingerprinted as itself (TCP, 127.0.0.1 port 0)', () => {
  for (const profile of PROFILES_TO_NAME) {
    test(profile, async () => {
      await withEmulator({ profile }, async (emu) => {
        const report = await probe({ host: emu.host, port: emu.port, fingerprint: true, timeoutMs: TIMEOUT_MS });
        const fp = report.fingerprint;
        assert.ok(fp);
        const detail = JSON.stringify(fp.matches.slice(0, 2), null, 1);
        assert.equal(fp.verdict?.kind, 'match', detail);
        assert.equal(fp.verdict.ids.length, 1, detail);
        assert.ok(fp.matches[0]?.profiles.includes(profile), detail);
        assert.equal(fp.matches[0]?.disagree.length, 0);
        // Every behavioural trait was measured over TCP, plus the version set.
        assert.equal(fp.matches[0]?.compared, 13, detail);
        assert.ok(fp.connections <= TRAIT_PROBES.length && TRAIT_PROBES.length <= 11);
      });
    });
  }
});

describe('fingerprint connections follow the probe rules', () => {
  test('every one goes through the shared gate, and a refused target is not fingerprinted', async () => {
    await withEmulator({ profile: 'escargot' }, async (emu) => {
      let taken = 0;
      const gate: Gate = (fn) => {
        taken++;
        return fn();
      };
      const at = { host: emu.host, port: emu.port };
      const report = await probe({ ...at, fingerprint: true, timeoutMs: TIMEOUT_MS, versions: [8, 9], gate });
      // Two versions, the combined offer and the fingerprint connections.
      assert.equal(taken, 2 + 1 + (report.fingerprint?.connections ?? 0));
      assert.equal(report.fingerprint?.connections, TRAIT_PROBES.length);
    });
    const port = await closedPort();
    const dead = await probe({ host: '127.0.0.1', port, fingerprint: true, timeoutMs: TIMEOUT_MS, versions: [8] });
    assert.equal(dead.fingerprint?.skipped, 'no-msnp-answer');
    assert.equal(dead.fingerprint?.connections, 0);
  });

  test('with concurrency 1 it still finishes, one connection at a time', async () => {
    await withEmulator({ profile: 'msn-2003' }, async (emu) => {
      const at = { host: emu.host, port: emu.port };
      const one = { concurrency: 1, versions: [8, 9, 10] };
      const report = await probe({ ...at, ...one, fingerprint: true, timeoutMs: TIMEOUT_MS });
      assert.equal(report.fingerprint?.verdict?.ids[0], 'microsoft-2003');
    });
  });
});

describe('bin --fingerprint', () => {
  test('demo names the profile; JSON carries traits with raw replies and validates', async () => {
    const r = await fpBin(['demo', '--profile', 'escargot@2019-06-19']);
    assert.equal(r.code, 0, r.stderr);
    const line =
      'fingerprint: looks like Escargot (2019-06-19 to 2019-08-09), 13 of 13 traits (1 inferred); ' +
      'emulator profile escargot@2019-06-19';
    assert.ok(r.stdout.split('\n').includes(line), r.stdout);
    const j = await fpBin(['demo', '--profile', 'remessenger', '--json']);
    assert.equal(j.code, 0, j.stderr);
    const fp = checkDocument(j.stdout).targets[0]?.fingerprint;
    assert.ok(fp);
    assert.deepEqual(fp.verdict?.ids, ['remessenger']);
    assert.equal(fp.traits['ascending-offer']?.answer, 'sorted-echo');
    const sorted = 'VER 1 MSNP21 MSNP18 MSNP12 MSNP11 MSNP9 MSNP8 MSNP3 MSNP2 CVR0';
    assert.deepEqual(fp.traits['ascending-offer']?.reply, [sorted]);
    assert.equal(fp.traits['split-segment']?.answer, 'closed');
    assert.equal(fp.traits['split-segment']?.sent, 'VER 1 MSNP8 CVR0\r\n');
    assert.equal(fp.traits['lowercase-ver']?.answer, 'silent');
  });

  test('many targets: an implementation column in the matrix, a fingerprint field in NDJSON', async () => {
    await withEmulator({ profile: 'msn-2000' }, async (a) => {
      await withEmulator({ profile: 'escargot' }, async (b) => {
        const targets = [`${a.host}:${a.port}`, `${b.host}:${b.port}`];
        const table = await fpBin(targets);
        assert.equal(table.code, 0, table.stderr);
        assert.match(table.stdout, /implementation/);
        assert.match(table.stdout, new RegExp(`${a.port}.*Microsoft \\(2000\\)`));
        assert.match(table.stdout, new RegExp(`${b.port}.*Escargot \\(2020-04-11 or later\\)`));
        const nd = await fpBin([...targets, '--ndjson']);
        assert.equal(nd.code, 0, nd.stderr);
        const rows = nd.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as ReportDocument['targets'][number]);
        const byPort = new Map(rows.map((t) => [t.port, t.fingerprint?.verdict?.ids]));
        assert.deepEqual(byPort.get(a.port), ['microsoft-2000']);
        assert.deepEqual(byPort.get(b.port), ['escargot@2020-04-11']);
      });
    });
  });

  test('--transport http: split segments and bare LF unmeasured, Escargot still named', async () => {
    await withEmulator({ profile: 'escargot', transport: 'http' }, async (emu) => {
      const r = await fpBin([`${emu.host}:${emu.port}`, '--transport', 'http', '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /Warning/);
      const fp = checkDocument(r.stdout).targets[0]?.fingerprint;
      assert.ok(fp);
      for (const name of ['split-segment', 'bare-lf'] as const) {
        assert.equal(fp.traits[name]?.measured, false);
        assert.match(fp.traits[name]?.note ?? '', /http/);
      }
      assert.deepEqual(fp.verdict?.ids, ['escargot@2020-04-11']);
      assert.equal(fp.matches[0]?.compared, 11);
    });
  });

  test('--baseline: a changed implementation fails the run, the same one passes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'msnp-fp-'));
    try {
      await withEmulator({ profile: 'escargot@2019-08-10' }, async (emu) => {
        const target = `${emu.host}:${emu.port}`;
        const first = await fpBin([target, '--json']);
        assert.equal(first.code, 0, first.stderr);
        const same = join(dir, 'same.json');
        writeFileSync(same, first.stdout);
        const ok = await fpBin([target, '--baseline', same]);
        assert.equal(ok.code, 0, ok.stdout + ok.stderr);
        // The same run, as if the server had been Escargot of 2020 when the baseline was taken.
        const doc = JSON.parse(first.stdout) as { targets: { fingerprint: { verdict: { ids: string[] } } }[] };
        const t = doc.targets[0];
        assert.ok(t);
        t.fingerprint.verdict.ids = ['escargot@2020-04-11'];
        const other = join(dir, 'other.json');
        writeFileSync(other, JSON.stringify(doc));
        const bad = await fpBin([target, '--baseline', other]);
        assert.equal(bad.code, 1, bad.stdout + bad.stderr);
        assert.match(bad.stdout, /baseline DIFFERENCE implementation: escargot@2020-04-11 -> escargot@2019-08-10/);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
