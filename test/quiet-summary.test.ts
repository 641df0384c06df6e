import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import type { TargetDocument } from '../src/report/render/json.js';
import { checkDocument, closedPort, runBin, TEST_TIMEOUT_MS } from './helpers.js';

let dir = '';
let emulator: Emulator;
let target = '';
let silent = '';
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'msnp-quiet-'));
  emulator = await startEmulator({ profile: 'msn-2007' });
  target = `127.0.0.1:${emulator.port}`;
  silent = `127.0.0.1:${await closedPort()}`;
});
after(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

const SUMMARY = /^msnp-probe: (\d+) targets?, (\d+) probes?, (\d+) answered as MSNP, \d+\.\d s, \d+\.\d probes\/s$/;

describe('-q, --quiet: the exit code and errors only', { timeout: TEST_TIMEOUT_MS }, () => {
  test('nothing on stdout or stderr; the exit code still tells', async () => {
    const ok = await runBin(['-q', target, '--range', '8-9']);
    assert.deepEqual([ok.code, ok.stdout, ok.stderr], [0, '', '']);
    const unmet = await runBin(['--quiet', target, '--range', '8-9', '--expect', '8']);
    assert.deepEqual([unmet.code, unmet.stdout, unmet.stderr], [1, '', '']);
    const none = await runBin(['-q', silent, target, '--range', '8', '--progress=false']);
    assert.deepEqual([none.code, none.stdout, none.stderr], [3, '', '']);
  });

  test('-o FORMAT:FILE is still written, in full', async () => {
    const json = join(dir, 'quiet.json');
    const r = await runBin(['-q', target, '--range', '7-9', '-o', `json:${json}`]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', '']);
    const doc = checkDocument(readFileSync(json, 'utf8'));
    assert.deepEqual(doc.targets[0]?.accepted, [8, 9]);
  });

  test('usage errors still print, one line, exit 2; so does a quiet run asked to print', async () => {
    const cases: [string[], RegExp][] = [
      [['-q', '--range', '0', target], /^msnp-probe: --range: version 0 is outside 1\.\.99/],
      [['-q', '--json', target], /^msnp-probe: --quiet writes nothing on stdout/],
      [['-q', '-o', 'csv', target], /^msnp-probe: --quiet writes nothing on stdout/],
      [['-q', '--verbose', target], /^msnp-probe: --quiet and --verbose: choose one/],
    ];
    for (const [args, message] of cases) {
      const r = await runBin(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, message);
      assert.equal(r.stderr.split('\n').length, 2, r.stderr);
    }
  });
});

describe('--ndjson: a one-line summary on stderr at the end', { timeout: TEST_TIMEOUT_MS }, () => {
  test('targets, probes, answered, elapsed and rate; stdout stays pure NDJSON', async () => {
    for (const ndjson of [['--ndjson'], ['-o', 'ndjson']]) {
      const r = await runBin([target, silent, '--range', '8-9', ...ndjson]);
      assert.equal(r.code, 3, r.stderr);
      const docs = r.stdout
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as TargetDocument);
      assert.equal(docs.length, 2);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, 1, r.stderr);
      const m = SUMMARY.exec(lines[0] ?? '');
      assert.ok(m, r.stderr);
      // Two versions and the combined offer per target.
      const probes = docs.reduce((n, d) => n + d.probes.length + (d.offer ? 1 : 0), 0);
      assert.deepEqual([m[1], m[2], m[3]], ['2', String(probes), '1']);
      assert.equal(probes, 6);
    }
  });

  test('not with --quiet, nor for another format on stdout', async () => {
    const file = join(dir, 'quiet.ndjson');
    const quiet = await runBin(['-q', target, '--range', '8', '-o', `ndjson:${file}`]);
    assert.deepEqual([quiet.code, quiet.stdout, quiet.stderr], [0, '', '']);
    assert.equal(
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l !== '').length,
      1,
    );
    const json = await runBin([target, '--range', '8', '--json']);
    assert.equal(json.stderr, '');
  });
});
