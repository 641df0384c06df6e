import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import type { ReportDocument } from '../src/report/render/json.js';
import { CSV_COLUMNS } from '../src/report/formats/csv.js';
import { BIN, PATIENCE_MS, runBin, TEST_TIMEOUT_MS, checkDocument } from './helpers.js';

let dir = '';
let emulator: Emulator;
let target = '';
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'msnp-formats-'));
  emulator = await startEmulator({ profile: 'msn-2007' });
  target = `127.0.0.1:${emulator.port}`;
});
after(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('-o FORMAT[:FILE]: several outputs in one run', { timeout: TEST_TIMEOUT_MS }, () => {
  test('the table on stdout, the JSON document and a CSV in files, from the same probes', async () => {
    const json = join(dir, 'run.json');
    const csv = join(dir, 'run.csv');
    const r = await runBin([target, '--range', '7-9', '-o', 'table', '-o', `json:${json}`, '--output', `csv:${csv}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /│ MSNP8 +│ accepted/);
    assert.match(r.stdout, /accepts MSNP8-MSNP9 \(2 of 3\)/);
    const doc = JSON.parse(readFileSync(json, 'utf8')) as ReportDocument;
    checkDocument(doc);
    assert.deepEqual(doc.targets[0]?.accepted, [8, 9]);
    const rows = readFileSync(csv, 'utf8').split('\r\n');
    assert.equal(rows[0], CSV_COLUMNS.join(','));
    assert.equal(rows.at(-1), '', 'every row ends in CRLF');
    const body = rows.slice(1, -1).map((l) => l.split(','));
    assert.deepEqual(
      body.map((c) => [c[4], c[5]]),
      [
        ['7', 'rejected'],
        ['8', 'accepted'],
        ['9', 'accepted'],
      ],
    );
    // The CSV and the JSON describe the same probes.
    assert.deepEqual(
      body.map((c) => Number(c[9])),
      doc.targets[0]?.probes.map((p) => p.bytesReceived),
    );
  });

  test('csv on stdout, table to a file; --json is -o json', async () => {
    const table = join(dir, 'table.txt');
    const r = await runBin([target, '--range', '8', '--no-offer', '-o', 'csv', '-o', `table:${table}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^host,port,address,transport,version,status,code,reply,/);
    assert.match(r.stdout, /\r\n127\.0\.0\.1,\d+,127\.0\.0\.1,tcp,8,accepted,,VER 1 MSNP8 CVR0,/);
    assert.match(readFileSync(table, 'utf8'), /MSNP8 +│ accepted/);
    const a = await runBin([target, '--range', '8', '--no-offer', '--json', '-o', 'json']);
    assert.equal(a.code, 0, a.stderr);
    assert.equal((JSON.parse(a.stdout) as ReportDocument).targets[0]?.accepted.length, 1);
  });

  test('svg: the whole run as one picture, in a file beside the table', async () => {
    const svg = join(dir, 'run.svg');
    const r = await runBin([target, '--range', '8-9', '--no-offer', '-o', `svg:${svg}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /MSNP8 +│ accepted/);
    const picture = readFileSync(svg, 'utf8');
    assert.match(picture, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.equal((picture.match(/data-status="accepted"/g) ?? []).length, 2);
  });

  test('SIGINT: the JSON file is an interrupted document of what finished, as on stdout', async () => {
    const slow = await startEmulator({ profile: 'escargot', port: 0, delayMs: 300 });
    try {
      const list = join(dir, 'slow.txt');
      writeFileSync(list, `127.0.0.1:${slow.port}\n`.repeat(200));
      const json = join(dir, 'interrupted.json');
      const args = ['--targets', list, '--range', '8-9', '-o', 'ndjson', '-o', `json:${json}`];
      args.push('--global-concurrency', '4');
      const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        let sent = false;
        const limit = setTimeout(() => child.kill('SIGKILL'), PATIENCE_MS * 4);
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          stdout += d;
          if (!sent && stdout.includes('\n')) {
            sent = true;
            child.kill('SIGINT');
          }
        });
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(limit);
          resolve({ code, stdout, stderr });
        });
      });
      assert.equal(r.code, 130, r.stderr);
      const lines = r.stdout.split('\n').filter(Boolean);
      const doc = JSON.parse(readFileSync(json, 'utf8')) as ReportDocument;
      checkDocument(doc);
      assert.equal(doc.interrupted, true);
      assert.equal(doc.targets.length, lines.length, 'the file holds every target stdout got');
      assert.ok(doc.targets.length >= 1 && doc.targets.length < 200);
    } finally {
      await slow.close();
    }
  });

  test('a file that cannot be opened is a usage error before any probe', async () => {
    const before = emulator.stats().connections;
    const r = await runBin([target, '-o', `json:${join(dir, 'missing', 'x.json')}`]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^msnp-probe: --output: cannot write '.*x\.json': ENOENT \(see --help\)\n$/);
    assert.equal(r.stdout, '');
    assert.equal(emulator.stats().connections, before, 'no probe was made');
  });

  const noDevFull = !existsSync('/dev/full');
  test('a file that fails while written: exit 5 and one line on stderr', { skip: noDevFull }, async () => {
    const r = await runBin([target, '--range', '8', '-o', 'ndjson', '-o', 'json:/dev/full']);
    assert.equal(r.code, 5);
    assert.equal(r.stderr, "msnp-probe: cannot write '/dev/full': ENOSPC\n");
  });

  test('bad specs are usage errors naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['-o', 'xml'], /--output: 'xml' is not a format \(table, json, ndjson, csv/],
      [['-o', 'csv', '-o', 'json'], /--output: csv and json both on standard output/],
      [['--json', '-o', 'csv'], /--output: json and csv both on standard output/],
      [['-o', 'json:'], /--output: json: needs a file name/],
      [['-o', `csv:${join(dir, 'same')}`, '-o', `json:${join(dir, 'same')}`], /named twice/],
    ];
    for (const [args, message] of cases) {
      const r = await runBin(['127.0.0.1:1', ...args]);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, message);
      assert.equal(r.stderr.split('\n').length, 2, 'one line');
    }
  });
});
