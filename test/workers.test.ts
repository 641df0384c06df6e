import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { startEmulator, type Emulator, type EmulatorOptions } from '../src/emulator/server.js';
import { serverKey, workerFor } from '../src/cli/workers.js';
import { BIN, PATIENCE_MS, ROOT, TEST_TIMEOUT_MS, closedPort, runBin, waitUntil } from './helpers.js';

const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(
  JSON.parse(readFileSync(`${ROOT}docs/schema/report.schema.json`, 'utf8')) as object,
);

async function withList<T>(lines: string[], fn: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'msnp-probe-workers-'));
  const path = join(dir, 'targets.txt');
  await writeFile(path, `${lines.join('\n')}\n`);
  try {
    return await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function withEmulators<T>(count: number, fn: (emulators: Emulator[]) => Promise<T>): Promise<T> {
  const emulators: Emulator[] = [];
  try {
    for (let i = 0; i < count; i++) {
      // Different profiles, so a document landing under the wrong target would show.
      emulators.push(await startEmulator({ profile: i % 2 ? 'escargot' : 'msn-2007' }));
    }
    return await fn(emulators);
  } finally {
    await Promise.all(emulators.map((e) => e.close()));
  }
}

/**
 * Emulators whose servers `--workers 2` gives to the given threads (0: the main thread, 1: the
 * worker thread), one per entry: the ports are the system's, so emulators are started until each
 * entry has one, and the others closed.
 */
async function withEmulatorsOn<T>(
  threads: number[],
  options: EmulatorOptions,
  fn: (emulators: Emulator[]) => Promise<T>,
): Promise<T> {
  const chosen: (Emulator | undefined)[] = threads.map(() => undefined);
  const spare: Emulator[] = [];
  try {
    for (let tries = 0; chosen.includes(undefined); tries++) {
      assert.ok(tries < 200, 'no port for every thread');
      const e = await startEmulator(options);
      const slot = threads.findIndex(
        (t, i) => chosen[i] === undefined && workerFor({ host: '127.0.0.1', port: e.port }, 2) === t,
      );
      if (slot < 0) spare.push(e);
      else chosen[slot] = e;
    }
    await Promise.all(spare.splice(0).map((e) => e.close()));
    return await fn(chosen as Emulator[]);
  } finally {
    await Promise.all([...spare, ...chosen].map((e) => e?.close()));
  }
}

/** A report without what differs from run to run: times and the run's start. */
function timeless(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(timeless);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'elapsedMs' || k === 'durationMs' || k === 'startedAt' || k === 't') continue;
      out[k] = timeless(v);
    }
    return out;
  }
  return value;
}

test('serverKey: every spelling of one server is one key, so one worker', () => {
  assert.equal(serverKey({ host: '::1', port: 1863 }), serverKey({ host: '0:0:0:0:0:0:0:1', port: 1863 }));
  assert.equal(serverKey({ host: 'Example.INVALID', port: 1 }), serverKey({ host: 'example.invalid', port: 1 }));
  assert.equal(serverKey({ host: '127.1', port: 1 }), serverKey({ host: '127.0.0.1', port: 1 }));
  assert.notEqual(serverKey({ host: '127.0.0.1', port: 1 }), serverKey({ host: '127.0.0.1', port: 2 }));
  assert.equal(workerFor({ host: '::1', port: 7 }, 5), workerFor({ host: '0::1', port: 7 }, 5));
  // Many servers spread over both workers, not all on one.
  const counts = [0, 0];
  for (let port = 1; port <= 200; port++) {
    const w = workerFor({ host: '127.0.0.1', port }, 2);
    counts[w] = (counts[w] ?? 0) + 1;
  }
  assert.ok((counts[0] ?? 0) > 50 && (counts[1] ?? 0) > 50, `spread ${counts.join('/')}`);
});

test('--workers 2 writes the same JSON document as --workers 1, in input order', {
  timeout: TEST_TIMEOUT_MS,
}, async () => {
  await withEmulators(6, async (emulators) => {
    const dead = await closedPort();
    const lines = [...emulators.map((e) => `127.0.0.1:${e.port}`), `127.0.0.1:${dead}`];
    // The same servers again, reversed: duplicates, and an order unlike the finishing order.
    lines.push(...[...lines].reverse());
    await withList(lines, async (path) => {
      const args = ['--targets', path, '--json', '--no-progress', '-r', '5-12', '-t', '10s'];
      const one = await runBin([...args, '--workers', '1'], { timeoutMs: PATIENCE_MS * 4 });
      const two = await runBin([...args, '--workers', '2'], { timeoutMs: PATIENCE_MS * 4 });
      // The closed port answers nothing: exit 3, with either number of workers.
      assert.equal(one.code, 3, one.stderr);
      assert.equal(two.code, one.code, two.stderr);
      assert.equal(two.stderr, one.stderr);
      const a = JSON.parse(one.stdout) as { targets: { host: string; port: number }[] };
      const b = JSON.parse(two.stdout) as { targets: { host: string; port: number }[] };
      assert.ok(validate(b), JSON.stringify(validate.errors));
      assert.deepEqual(
        b.targets.map((t) => `${t.host}:${t.port}`),
        lines,
      );
      assert.deepEqual(timeless(b), timeless(a));
    });
  });
});

/** `--workers 2 --ndjson -r 8-9` over `lines`: exit 0 and one line per target, each accepting 8 and 9. */
async function assertEveryLineProbed(lines: string[], env: Record<string, string> = {}): Promise<void> {
  await withList(lines, async (path) => {
    const r = await runBin(['--targets', path, '--ndjson', '--no-progress', '-r', '8-9', '--workers', '2'], {
      env,
      timeoutMs: PATIENCE_MS * 2,
    });
    assert.equal(r.code, 0, r.stderr);
    const docs = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { port: number; accepted: number[] });
    assert.deepEqual(docs.map((d) => `127.0.0.1:${d.port}`).sort(), [...lines].sort());
    for (const d of docs) assert.deepEqual(d.accepted, [8, 9]);
  });
}

test('--workers 2 with --ndjson: one line per target, each from its own server', {
  timeout: TEST_TIMEOUT_MS,
}, async () => {
  await withEmulators(4, async (emulators) => {
    const lines = emulators.map((e) => `127.0.0.1:${e.port}`);
    await assertEveryLineProbed(lines);
  });
});

test('--workers 2: every entry of one server, however spelled, is probed on one worker (its connection budget)', {
  timeout: TEST_TIMEOUT_MS,
}, async () => {
  // Replies wait, so connections pile up to whatever the prober allows at once.
  const slow = await startEmulator({ profile: 'escargot', delayMs: 150 });
  const other = await startEmulator({ profile: 'escargot' });
  try {
    const spellings = ['127.0.0.1', '127.1', '127.000.000.001', '0x7f.0.0.1'];
    const lines = [
      `127.0.0.1:${other.port}`,
      ...Array.from({ length: 8 }, (_, i) => `${spellings[i % spellings.length]}:${slow.port}`),
    ];
    await withList(lines, async (path) => {
      // 4 in all, 2 per worker: the slow server's 8 entries together may hold 2 connections, not 4.
      const r = await runBin(
        ['--targets', path, '--ndjson', '--no-progress', '-r', '2-5', '--no-offer'].concat([
          '-c',
          '2',
          '--global-concurrency',
          '4',
          '--workers',
          '2',
        ]),
        { timeoutMs: PATIENCE_MS * 4 },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim().split('\n').length, lines.length);
      assert.equal(slow.stats().connections, 8 * 4);
      assert.ok(slow.stats().peakActive <= 2, `peak ${slow.stats().peakActive} connections at once`);
    });
  } finally {
    await Promise.all([slow.close(), other.close()]);
  }
});

for (const [stop, exit] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  test(`--workers 2: ${stop} stops every thread and keeps what finished`, { timeout: TEST_TIMEOUT_MS }, async () => {
    // Servers that accept and never answer: nothing finishes before the interrupt.
    const sockets = new Set<Socket>();
    // Connections each server accepted, open or not: a failure then tells "never reached" from "closed".
    const accepted = new Map<number, number>();
    const listen = async (): Promise<Server> => {
      const server = createServer((s) => {
        sockets.add(s);
        accepted.set(s.localPort ?? 0, (accepted.get(s.localPort ?? 0) ?? 0) + 1);
        // Read, so that the prober's close is seen.
        s.resume();
        s.on('error', () => undefined);
        s.on('close', () => sockets.delete(s));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return server;
    };
    const portOf = (s: Server): number => (s.address() as { port: number }).port;
    const threadOf = (port: number): number => workerFor({ host: '127.0.0.1', port }, 2);
    // Two servers on each thread, the main one and the worker (both must stop), and no more: each
    // thread's share of --global-concurrency (32) must hold all its connections at once, or a
    // server would wait for a slot that the unanswered others never free. Extra ports are closed.
    const servers: Server[] = [];
    const onThread = (t: number): number => servers.filter((s) => threadOf(portOf(s)) === t).length;
    for (let tries = 0; onThread(0) < 2 || onThread(1) < 2; tries++) {
      assert.ok(tries < 200, 'no port for every thread');
      const server = await listen();
      if (onThread(threadOf(portOf(server))) < 2) servers.push(server);
      else await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    const ports = servers.map(portOf);
    try {
      await withList(
        ports.map((p) => `127.0.0.1:${p}`),
        async (path) => {
          const child = spawn(
            process.execPath,
            [BIN, '--targets', path, '--json', '--no-progress', '-r', '8-9', '-t', '120s', '--workers', '2'],
            { stdio: ['ignore', 'pipe', 'pipe'] },
          );
          let stdout = '';
          let stderr = '';
          child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
          child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
          let ended: number | null | undefined;
          const exited = new Promise<number | null>((resolve) =>
            child.on('close', (code) => {
              ended = code;
              resolve(code);
            }),
          );
          try {
            // Every server holds a connection: both workers are probing.
            const holding = (p: number): boolean => [...sockets].some((k) => k.localPort === p);
            await waitUntil('connections to every server, or the child gone', () =>
              ended !== undefined ? true : ports.every(holding),
            ).catch((err: Error) => {
              const state = ports.map((p) => `${p} (thread ${threadOf(p)}): ${accepted.get(p) ?? 0} accepted`);
              throw new Error(`${err.message}; ${state.join(', ')}; stderr: ${stderr}`);
            });
            assert.equal(ended, undefined, `the child ended before the interrupt; stderr: ${stderr}`);
            child.kill(stop);
            const code = await exited;
            assert.equal(code, exit, stderr);
            assert.match(stderr, new RegExp(`interrupted by ${stop}; 0 targets finished`));
            const doc = JSON.parse(stdout) as { targets: unknown[]; interrupted?: boolean };
            assert.deepEqual(doc.targets, []);
            assert.equal(doc.interrupted, true);
            await waitUntil('the prober closed its connections', () => sockets.size === 0);
          } finally {
            child.kill('SIGKILL');
          }
        },
      );
    } finally {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    }
  });
}

test('--workers 2: a worker that crashes is one line on stderr and exit code 4, not a hang', {
  timeout: TEST_TIMEOUT_MS,
}, async () => {
  // One server for each thread: the worker thread starts, and crashes.
  await withEmulatorsOn([0, 1], {}, async (emulators) => {
    await withList(
      emulators.map((e) => `127.0.0.1:${e.port}`),
      async (path) => {
        const r = await runBin(['--targets', path, '--ndjson', '--no-progress', '-r', '8', '--workers', '2'], {
          env: { MSNP_PROBE_TEST_WORKER_CRASH: '1' },
          timeoutMs: PATIENCE_MS * 2,
        });
        assert.equal(r.signal, null, 'killed by the test: a hang');
        assert.equal(r.code, 4, r.stderr);
        assert.match(r.stderr, /^msnp-probe: internal error: worker thread \d failed: injected worker crash\n$/);
      },
    );
  });
});

test('--workers 2: the main thread probes its own share; no worker thread starts for servers all its own', {
  timeout: TEST_TIMEOUT_MS,
}, async () => {
  // A worker thread, had one started, would crash: the run's success shows that none did.
  await withEmulatorsOn([0, 0, 0], {}, async (emulators) => {
    const lines = emulators.map((e) => `127.0.0.1:${e.port}`);
    await assertEveryLineProbed(lines, { MSNP_PROBE_TEST_WORKER_CRASH: '1' });
  });
});

test('--workers 2: each thread, the main one too, keeps its share of --global-concurrency', {
  timeout: TEST_TIMEOUT_MS,
}, async () => {
  // A slow server on each thread, replies held back, so connections pile up to what each thread allows.
  await withEmulatorsOn([0, 1], { profile: 'escargot', delayMs: 150 }, async (emulators) => {
    const spellings = ['127.0.0.1', '127.1', '127.000.000.001'];
    const lines = emulators.flatMap((e) => spellings.map((h) => `${h}:${e.port}`));
    await withList(lines, async (path) => {
      // -c 3 per server, 4 in all: 2 per thread, so each server may hold 2 connections, not 3.
      const args = ['--targets', path, '--ndjson', '--no-progress', '-r', '2-7', '--no-offer', '-c', '3'];
      const r = await runBin([...args, '--global-concurrency', '4', '--workers', '2'], { timeoutMs: PATIENCE_MS * 4 });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim().split('\n').length, lines.length);
      for (const [i, e] of emulators.entries()) {
        assert.equal(e.stats().connections, 3 * 6);
        assert.ok(e.stats().peakActive <= 2, `thread ${i}: ${e.stats().peakActive} connections at once`);
      }
    });
  });
});

test('--workers 2: output that cannot be written stops the workers: exit 5 and one line on stderr', {
  timeout: TEST_TIMEOUT_MS,
  skip: !existsSync('/dev/full'),
}, async () => {
  // Servers on both threads: the main thread's scan stops as the worker's does.
  await withEmulatorsOn([0, 0, 1, 1], {}, async (emulators) => {
    await withList(
      emulators.map((e) => `127.0.0.1:${e.port}`),
      async (path) => {
        const args = ['--targets', path, '--no-progress', '-r', '8', '--workers', '2', '-o', 'json:/dev/full'];
        const r = await runBin(args, { timeoutMs: PATIENCE_MS * 2 });
        assert.equal(r.signal, null, 'killed by the test: a hang');
        assert.equal(r.code, 5, r.stderr);
        assert.equal(r.stderr, "msnp-probe: cannot write '/dev/full': ENOSPC\n");
      },
    );
  });
});

test('--workers: a bad value is a usage error', async () => {
  const r = await runBin(['127.0.0.1:1', '--workers', '0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--workers/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
