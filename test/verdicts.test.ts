import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../src/emulator/server.js';
import { probe } from '../src/probe/probe.js';
import { buildDocument, type ReportDocument } from '../src/report/render/json.js';
import type { TargetReport } from '../src/probe/probe.js';
import { runBin, type RunResult, checkDocument } from './helpers.js';

/** A report as the one target of a `--json` document, for the schema. */
const documentOf = (report: TargetReport): ReportDocument => buildDocument([report], new Date(), 1);

async function tempFile(name: string, text: string): Promise<{ path: string; done: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'msnp-probe-'));
  const path = join(dir, name);
  await writeFile(path, text);
  return { path, done: () => rm(dir, { recursive: true, force: true }) };
}

/** A loopback server accepting every VER whose USR answer is chosen per connection by `login(n)`. */
async function loginServer(login: (n: number) => 'challenge' | 'close'): Promise<{ server: Server; port: number }> {
  let connections = 0;
  const server = createServer((socket) => {
    const n = connections++;
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      for (const line of chunk.toString('latin1').split('\r\n')) {
        const [cmd, trId, ...rest] = line.split(' ');
        if (cmd === 'VER') socket.write(`VER ${trId} ${rest[0]}\r\n`);
        if (cmd === 'CVR') socket.write(`CVR ${trId} 8.1.0178 8.1.0178 8.1.0178 u u\r\n`);
        if (cmd === 'USR') {
          if (login(n) === 'challenge') socket.write(`USR ${trId} TWN S ct=1,rver=1\r\n`);
          else socket.end();
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

describe('verdicts a CI job can trust', () => {
  test('--expect outside --range: exit 2, one line, nothing probed', async () => {
    const r = await runBin(['127.0.0.1:1', '--range', '8-9', '--expect', '2-21']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^msnp-probe: --expect: MSNP2-MSNP7, MSNP10-MSNP21 are outside --range MSNP8-MSNP9 /);
    assert.match(r.stderr, /\(never probed\)[^\n]*\n$/);
  });

  test('--deep --baseline: a login regression behind unchanged accepted VERs fails the run', async () => {
    const first = await startEmulator({ profile: 'escargot' });
    const port = first.port;
    const target = `127.0.0.1:${port}`;
    const saved = await runBin([target, '-r', '11-14', '--deep', '--json']);
    await first.close();
    assert.equal(saved.code, 0, saved.stderr);
    const base = await tempFile('base.json', saved.stdout);
    try {
      const broken = await startEmulator({ profile: 'escargot', port, faults: ['11-14:claim-only'] });
      let r: RunResult;
      try {
        r = await runBin([target, '-r', '11-14', '--deep', '--baseline', base.path, '--json']);
      } finally {
        await broken.close();
      }
      assert.equal(r.code, 1, r.stderr);
      const doc = JSON.parse(r.stdout) as ReportDocument;
      checkDocument(doc);
      assert.deepEqual(doc.targets[0]?.accepted, [11, 12, 13, 14]);
      const b = doc.targets[0]?.baseline;
      assert.equal(b?.met, false);
      assert.deepEqual(
        b?.differences.map((d) => d.version),
        [11, 12, 13, 14],
      );
      assert.match(b?.differences[0]?.before ?? '', /^accepted\/confirmed\//);
      assert.match(b?.differences[0]?.after ?? '', /^accepted\/claimed-only\//);
      const line = 'baseline DIFFERENCE MSNP11: accepted/confirmed/notification -> accepted/claimed-only/';
      assert.ok(r.stderr.includes(line), r.stderr);
    } finally {
      await base.done();
    }
  });

  test('--baseline from a wider --range: no preferred difference, exit 0', async () => {
    const emu = await startEmulator({ profile: 'escargot' });
    const base = await tempFile('base.json', '');
    try {
      const target = `127.0.0.1:${emu.port}`;
      const saved = await runBin([target, '-r', '2-21', '--json']);
      await writeFile(base.path, saved.stdout);
      const r = await runBin([target, '-r', '8-14', '--baseline', base.path, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as ReportDocument;
      checkDocument(doc);
      assert.equal(doc.targets[0]?.baseline?.preferred, null);
      assert.equal(doc.targets[0]?.baseline?.preferredNotCompared, 'different-offer');
    } finally {
      await base.done();
      await emu.close();
    }
  });

  test('--attempts with --deep: attempts whose logins differ do not agree', async () => {
    const { server, port } = await loginServer((n) => (n % 2 === 0 ? 'challenge' : 'close'));
    try {
      const report = await probe({
        host: '127.0.0.1',
        port,
        versions: [11],
        offer: false,
        deep: true,
        attempts: 4,
        concurrency: 1,
      });
      const a = report.probes[0]?.agreement;
      assert.ok(a);
      assert.deepEqual(a.statuses, { accepted: 4 });
      assert.deepEqual(a.answers, { 'accepted/confirmed/notification': 2, 'accepted/claimed-only/closed': 2 });
      assert.equal(a.agree, false);
      checkDocument(documentOf(report));
    } finally {
      server.close();
    }
  });
});

describe('--timeout covers name resolution', { timeout: 60_000 }, () => {
  test('a resolver that never answers: timeout in phase resolve, within the deadline, real elapsedMs', async () => {
    let asked = 0;
    const never = (): Promise<never> => {
      asked++;
      return new Promise<never>(() => undefined);
    };
    const started = performance.now();
    const report = await probe({ host: 'slow-resolver.test', versions: [8, 9], timeoutMs: 300, lookup: never });
    const took = performance.now() - started;
    assert.equal(asked, 1);
    // Bounded by the deadline (generous upper margin for a loaded machine), never by the resolver.
    assert.ok(took >= 290 && took < 5000, `took ${took} ms`);
    for (const p of report.probes) {
      const seen = { status: p.status, phase: p.status === 'timeout' ? p.phase : null };
      assert.deepEqual(seen, { status: 'timeout', phase: 'resolve' });
      assert.ok(p.elapsedMs >= 290, `elapsedMs ${p.elapsedMs}`);
    }
    assert.equal(report.address, null);
    assert.ok(report.elapsedMs >= 290);
    checkDocument(documentOf(report));
  });
  test('a resolver that fails after a while: unreachable (dns), its time reported', async () => {
    const notFound = Object.assign(new Error('no'), { code: 'ENOTFOUND' });
    const slowFail = (): Promise<never> => new Promise<never>((_, reject) => setTimeout(() => reject(notFound), 100));
    const report = await probe({ host: 'gone.test', versions: [8], timeoutMs: 60_000, lookup: slowFail });
    const p = report.probes[0];
    assert.ok(p?.status === 'unreachable' && p.reason === 'dns' && p.errno === 'ENOTFOUND');
    assert.ok(p.elapsedMs >= 90, `elapsedMs ${p.elapsedMs}`);
  });
  test('an abort while resolving ends the probe at once', async () => {
    const controller = new AbortController();
    const never = (): Promise<never> => new Promise<never>(() => undefined);
    const { signal } = controller;
    const pending = probe({ host: 'slow.test', versions: [8], timeoutMs: 600_000, signal, lookup: never });
    controller.abort();
    await assert.rejects(pending);
  });
});
