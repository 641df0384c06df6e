/**
 * The emulator from the client side: garbage, floods, over-long lines, idle half-open
 * connections and more clients than it allows. It must never crash, keep answering normal probes,
 * keep its stats sane, not grow its memory without bound, and stop cleanly on SIGINT/SIGTERM.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { probe } from '../src/probe/probe.js';
import type { Emulator, EmulatorOptions } from '../src/emulator/server.js';
import { BIN, PATIENCE_MS, ROOT, TEST_TIMEOUT_MS, range, withEmulator } from './helpers.js';

const LIB = pathToFileURL(`${ROOT}dist/src/index.js`).href;
const PEAK_RSS = pathToFileURL(`${ROOT}dist/test/peak-rss.js`).href;

// ---------------------------------------------------------------------------------------------
// Client-side helpers
// ---------------------------------------------------------------------------------------------

interface Client {
  socket: Socket;
  /** Everything received so far. */
  received(): Buffer;
  /** Resolves when the server closed or reset the connection (never rejects). */
  closed: Promise<void>;
}

async function client(port: number): Promise<Client> {
  const socket = connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await Promise.race([once(socket, 'connect'), closed]);
  return { socket, received: () => Buffer.concat(chunks), closed };
}

/**
 * Writes as fast as the server reads, until `total` bytes, the server goes away, or `limitMs` has
 * passed (a server that stops reading never drains). Returns bytes written.
 */
async function flood(
  socket: Socket,
  chunk: Buffer,
  total: number,
  limitMs = Number.POSITIVE_INFINITY,
): Promise<number> {
  const deadline = performance.now() + limitMs;
  let written = 0;
  while (written < total && !socket.destroyed && socket.writable && performance.now() < deadline) {
    written += chunk.length;
    if (!socket.write(chunk)) {
      const waits: Promise<unknown>[] = [once(socket, 'drain'), once(socket, 'close')];
      if (Number.isFinite(limitMs)) waits.push(sleep(Math.max(0, deadline - performance.now())));
      await Promise.race(waits).catch(() => undefined);
    }
  }
  return written;
}

async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** withEmulator with a time limit: a hang fails the test, and closing the emulator unblocks the clients. */
function withEmu<T>(options: EmulatorOptions, fn: (emu: Emulator) => Promise<T>, ms = 2 * PATIENCE_MS): Promise<T> {
  return withEmulator(options, (emu) => within(ms, 'test body', fn(emu)));
}

async function waitFor(what: string, ms: number, ok: () => boolean): Promise<void> {
  const deadline = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(10);
  }
}

/** A normal probe still gets the profile's answers. */
async function stillAnswers(emu: { host?: string; port: number }, versions = [8, 13, 21]): Promise<void> {
  const report = await probe({ host: '127.0.0.1', port: emu.port, versions, timeoutMs: PATIENCE_MS });
  assert.deepEqual(
    report.probes.map((p) => p.status),
    versions.map(() => 'accepted'),
    JSON.stringify(report.probes.map((p) => [p.version, p.status])),
  );
}

const GARBAGE: Buffer[] = [
  Buffer.from([0x00, 0x00, 0x00, 0x0a]),
  Buffer.from([0xff, 0xfe, 0xfd, 0x80, 0xc3, 0x28, 0x0d, 0x0a]),
  Buffer.from('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', 'latin1'),
  Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
  Buffer.from('\x1b[2J\x1b]0;pwned\x07\r\n', 'latin1'),
  Buffer.from('VER\r\nVER x MSNP8\r\nVER 99999999999 MSNP8\r\n'),
  Buffer.from('\r\n\r\n\n\n\r\r\r'),
  Buffer.from('MSG 1 N 5\r\nabc'),
  Buffer.from('USR 1 TWN I a@b\r\nCVR 2 0x0409\r\nPNG\r\nOUT\r\n'),
];

// ---------------------------------------------------------------------------------------------

describe('emulator: hostile input from clients', () => {
  for (const profile of ['escargot', 'msn-2007']) {
    test(`${profile}: garbage bytes on many connections, then it still answers and active returns to 0`, {
      timeout: TEST_TIMEOUT_MS,
    }, async () => {
      await withEmu({ profile }, async (emu) => {
        const clients = await Promise.all(range(1, 60).map(() => client(emu.port)));
        for (const [i, c] of clients.entries()) c.socket.write(GARBAGE[i % GARBAGE.length] ?? Buffer.alloc(0));
        await sleep(100);
        const versions = profile === 'escargot' ? [8, 13, 21] : [8, 13, 16];
        await stillAnswers(emu, versions);
        for (const c of clients) c.socket.destroy();
        await waitFor('active back to 0', PATIENCE_MS, () => emu.stats().active === 0);
        const stats = emu.stats();
        assert.equal(stats.connections, 60 + 4);
        assert.ok(stats.peakActive <= stats.connections);
        assert.equal(stats.dropped, 0);
        await stillAnswers(emu, versions);
      });
    });
  }

  test('msn-2007 closes on an unknown command; escargot ignores it and stays open', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withEmu({ profile: 'msn-2007' }, async (emu) => {
      const c = await client(emu.port);
      c.socket.write('PNG\r\n');
      await within(PATIENCE_MS, 'msn-2007 closes', c.closed);
      assert.equal(c.received().length, 0);
    });
    await withEmu({ profile: 'escargot' }, async (emu) => {
      const c = await client(emu.port);
      // Escargot closes on PNG before login and on invalid UTF-8, so only commands it does not know.
      c.socket.write('XYZ 1\r\nHELLO\r\n\x00\x7f\r\n');
      const closedEarly = await Promise.race([c.closed.then(() => true), sleep(300).then(() => false)]);
      assert.equal(closedEarly, false);
      c.socket.write('VER 1 MSNP8 CVR0\r\n');
      await waitFor('reply', PATIENCE_MS, () => c.received().length > 0);
      assert.equal(c.received().toString('latin1'), 'VER 1 MSNP8\r\n');
      c.socket.destroy();
    });
  });

  test('a flood of 8 MB of lines is read and dropped; the emulator keeps up and still answers', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withEmu({ profile: 'escargot' }, async (emu) => {
      const c = await client(emu.port);
      const written = await within(
        PATIENCE_MS,
        'flood',
        flood(c.socket, Buffer.from('XYZ 1\r\nCHG 1 NLN 0\r\nHELLO\r\n'.repeat(2000)), 8 * 1024 * 1024),
      );
      assert.ok(written >= 8 * 1024 * 1024, `only ${written} bytes went through: the emulator stopped reading`);
      assert.equal(c.received().length, 0, 'escargot answers unknown commands with silence');
      c.socket.write('VER 1 MSNP8 CVR0\r\n');
      await waitFor('reply after the flood', PATIENCE_MS, () => c.received().length > 0);
      assert.equal(c.received().toString('latin1'), 'VER 1 MSNP8\r\n');
      c.socket.destroy();
      await stillAnswers(emu);
    });
  });

  test('a flood of VER lines on one connection gets one reply, one 715 and a close: no amplification', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withEmu({ profile: 'escargot' }, async (emu) => {
      const c = await client(emu.port);
      c.socket.write(Buffer.from('VER 1 MSNP8 CVR0\r\n'.repeat(50_000)));
      await within(PATIENCE_MS, 'server closes', c.closed);
      assert.equal(c.received().toString('latin1'), 'VER 1 MSNP8\r\n715 1\r\n');
      await waitFor('active back to 0', PATIENCE_MS, () => emu.stats().active === 0);
      await stillAnswers(emu);
    });
  });

  test('a line longer than the cap: the connection is dropped at once; one byte less is fine', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withEmu({ profile: 'escargot', maxLineBytes: 100 }, async (emu) => {
      // The cap counts every byte before the LF, the CR included: 99 + CR fits in 100.
      const ok = await client(emu.port);
      ok.socket.write(`${'X'.repeat(99)}\r`);
      const okClosed = await Promise.race([ok.closed.then(() => true), sleep(300).then(() => false)]);
      assert.equal(okClosed, false, 'a line of exactly the cap (CR included) is accepted');
      ok.socket.write('\nVER 1 MSNP8 CVR0\r\n');
      await waitFor('reply', PATIENCE_MS, () => ok.received().length > 0);
      assert.equal(ok.received().toString('latin1'), 'VER 1 MSNP8\r\n');
      ok.socket.destroy();

      const over = await client(emu.port);
      over.socket.write('X'.repeat(101));
      await within(PATIENCE_MS, 'dropped over the cap', over.closed);
      await stillAnswers(emu);
    });
    await withEmu({ profile: 'escargot' }, async (emu) => {
      // 100 MB without a newline against the default 4096-byte cap: dropped long before.
      const c = await client(emu.port);
      const written = await within(
        PATIENCE_MS,
        'endless line',
        flood(c.socket, Buffer.alloc(64 * 1024, 0x41), 100 * 1024 * 1024),
      );
      await within(PATIENCE_MS, 'closed', c.closed);
      assert.ok(written < 100 * 1024 * 1024, `the emulator read all ${written} bytes of a line without a newline`);
      // A payload over the emulator's 64 KiB cap is refused at its header.
      const p = await client(emu.port);
      p.socket.write(`MSG 1 N ${64 * 1024 + 1}\r\n`);
      await within(PATIENCE_MS, 'dropped at the payload header', p.closed);
      await waitFor('active back to 0', PATIENCE_MS, () => emu.stats().active === 0);
      await stillAnswers(emu);
    });
  });
});

describe('emulator: idle, half-open and excess connections', () => {
  test('200 idle connections with half a line each: counted, a probe still gets through, freed when clients go', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withEmu({ profile: 'escargot' }, async (emu) => {
      const idle = await Promise.all(range(1, 200).map(() => client(emu.port)));
      for (const c of idle) c.socket.write('VER 1 MSN');
      await waitFor('200 active', PATIENCE_MS, () => emu.stats().active === 200);
      await stillAnswers(emu, range(2, 21));
      // Half of them send FIN with the line still unfinished: the emulator releases them.
      for (const c of idle.slice(0, 100)) c.socket.end();
      await waitFor('100 left', PATIENCE_MS, () => emu.stats().active === 100);
      for (const c of idle.slice(100)) c.socket.destroy();
      await waitFor('none left', PATIENCE_MS, () => emu.stats().active === 0);
      const stats = emu.stats();
      assert.equal(stats.connections, 200 + 21);
      assert.ok(stats.peakActive >= 200 && stats.peakActive <= 200 + 21, `peak ${stats.peakActive}`);
    });
  });

  test('the idle timeout drops silent clients by itself', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withEmu({ profile: 'escargot', idleTimeoutMs: 300 }, async (emu) => {
      const idle = await Promise.all(range(1, 50).map(() => client(emu.port)));
      for (const c of idle.slice(0, 25)) c.socket.write('VER 1 MSNP8');
      const started = performance.now();
      await within(PATIENCE_MS, 'all dropped', Promise.all(idle.map((c) => c.closed)));
      const took = performance.now() - started;
      assert.ok(took >= 250, `dropped after ${Math.round(took)} ms, before the idle timeout`);
      await waitFor('active back to 0', PATIENCE_MS, () => emu.stats().active === 0);
      await stillAnswers(emu);
    });
  });

  test('more clients than maxConnections: the excess is dropped and counted, the rest served, stats exact', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withEmu({ profile: 'escargot', maxConnections: 10 }, async (emu: Emulator) => {
      const clients = await Promise.all(range(1, 50).map(() => client(emu.port)));
      await waitFor(
        'every connection accepted or dropped',
        PATIENCE_MS,
        () => emu.stats().connections + emu.stats().dropped === 50,
      );
      const stats = emu.stats();
      assert.equal(stats.connections, 10);
      assert.equal(stats.dropped, 40);
      assert.equal(stats.active, 10);
      assert.equal(stats.peakActive, 10);
      // The dropped ones are closed by the server, promptly; the 10 it serves stay open.
      let closed = 0;
      for (const c of clients) void c.closed.then(() => closed++);
      await waitFor('40 dropped clients closed', PATIENCE_MS, () => closed === 40);
      await sleep(100);
      assert.equal(closed, 40);
      for (const c of clients) c.socket.destroy();
      await waitFor('active back to 0', PATIENCE_MS, () => emu.stats().active === 0);
      await stillAnswers(emu);
      assert.ok(emu.stats().peakActive <= 10);
    });
  });

  test('an endless reply read slowly does not pile up listeners in the emulator', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      if (w.name === 'MaxListenersExceededWarning') warnings.push(w.message);
    };
    process.on('warning', onWarning);
    try {
      await withEmu({ profile: 'escargot', faults: ['endless'] }, async (emu) => {
        const c = await client(emu.port);
        c.socket.write('VER 1 MSNP8 CVR0\r\n');
        // Read in bursts so the emulator's writes block and drain many times on one live connection.
        for (let i = 0; i < 30; i++) {
          c.socket.pause();
          await sleep(15);
          c.socket.resume();
          await sleep(5);
        }
        assert.ok(
          c.received().length > 30 * 16 * 1024,
          `only ${c.received().length} bytes: the drain cycles did not happen`,
        );
        c.socket.destroy();
        await waitFor('active back to 0', PATIENCE_MS, () => emu.stats().active === 0);
      });
      await sleep(50);
      assert.deepEqual(warnings, [], 'listeners accumulate per drain: a leak on long-lived endless connections');
    } finally {
      process.off('warning', onWarning);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Memory, in a child process so the numbers are the emulator's alone
// ---------------------------------------------------------------------------------------------

interface MemReport {
  heapUsed: number;
  rss: number;
  maxRSS: number;
  stats: { connections: number; active: number; peakActive: number; dropped: number };
}

class EmulatorChild {
  readonly child: ChildProcessWithoutNullStreams;
  readonly #exited: Promise<unknown[]>;
  readonly #lines: string[] = [];
  #waiters: ((line: string) => void)[] = [];

  constructor(options: object) {
    const code = `
      import * as lib from ${JSON.stringify(LIB)};
      import { peakRssBytes } from ${JSON.stringify(PEAK_RSS)};
      import { createInterface } from 'node:readline';
      const emu = await lib.startEmulator(${JSON.stringify(options)});
      console.log(JSON.stringify({ port: emu.port }));
      for await (const line of createInterface({ input: process.stdin })) {
        if (line === 'mem') {
          globalThis.gc(); globalThis.gc();
          const { heapUsed, rss } = process.memoryUsage();
          console.log(JSON.stringify({ heapUsed, rss, maxRSS: peakRssBytes(), stats: emu.stats() }));
        } else if (line === 'exit') {
          await emu.close();
          break;
        }
      }
      process.stdin.destroy();`;
    this.child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', code], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#exited = once(this.child, 'exit');
    let buf = '';
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const w = this.#waiters.shift();
        if (w) w(line);
        else this.#lines.push(line);
      }
    });
  }

  next(): Promise<string> {
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    return within(PATIENCE_MS, 'child output', new Promise((resolve) => this.#waiters.push(resolve)));
  }

  async mem(): Promise<MemReport> {
    this.child.stdin.write('mem\n');
    return JSON.parse(await this.next()) as MemReport;
  }

  /** The emulator's report once it has seen every client go (or after PATIENCE_MS of asking). */
  async idle(): Promise<MemReport> {
    let m = await this.mem();
    const deadline = performance.now() + PATIENCE_MS;
    while (m.stats.active > 0 && performance.now() < deadline) {
      await sleep(20);
      m = await this.mem();
    }
    return m;
  }

  /** Closes the emulator; the child must then exit by itself, with 0. */
  async exit(): Promise<void> {
    this.child.stdin.write('exit\n');
    const [code] = await within(PATIENCE_MS, 'child exits after close()', this.#exited);
    assert.equal(code, 0);
  }
}

/** An emulator in a child process for `fn`, given its port; killed afterwards whatever happens. */
async function withEmulatorChild(
  options: object,
  fn: (emu: EmulatorChild, port: number) => Promise<void>,
): Promise<void> {
  const emu = new EmulatorChild(options);
  try {
    const { port } = JSON.parse(await emu.next()) as { port: number };
    await fn(emu, port);
  } finally {
    if (emu.child.exitCode === null) emu.child.kill('SIGKILL');
  }
}

describe('emulator memory under repeated abuse', () => {
  test('heap and RSS stay flat over rounds of garbage, floods, over-long lines and idle clients', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withEmulatorChild({ profile: 'escargot' }, async (emu, port) => {
      const round = async (): Promise<void> => {
        const idle = await Promise.all(range(1, 100).map(() => client(port)));
        for (const [i, c] of idle.entries()) c.socket.write(i % 2 ? 'VER 1 MSN' : (GARBAGE[i % GARBAGE.length] ?? ''));
        const f = await client(port);
        await flood(f.socket, Buffer.from('XYZ 1\r\nHELLO there\r\n'.repeat(1000)), 1024 * 1024);
        const longs = await Promise.all(range(1, 10).map(() => client(port)));
        await Promise.all(longs.map((c) => flood(c.socket, Buffer.alloc(8192, 0x42), 1024 * 1024)));
        await Promise.all(longs.map((c) => within(PATIENCE_MS, 'over-long dropped', c.closed)));
        await stillAnswers({ port }, [8, 15]);
        for (const c of [...idle, f]) c.socket.destroy();
      };
      const samples: MemReport[] = [];
      for (let i = 0; i < 8; i++) {
        await round();
        await emu.idle();
        samples.push(await emu.mem());
      }
      const first = samples[1];
      const last = samples.at(-1);
      assert.ok(first && last);
      assert.equal(last.stats.active, 0, JSON.stringify(last.stats));
      assert.equal(last.stats.dropped, 0);
      assert.ok(last.stats.connections >= 8 * 114, JSON.stringify(last.stats));
      const growth = last.heapUsed - first.heapUsed;
      assert.ok(
        growth < 1024 * 1024,
        `heap grew ${Math.round(growth / 1024)} KiB over ${samples.length - 2} rounds: ` +
          samples.map((s) => Math.round(s.heapUsed / 1024)).join(', '),
      );
      assert.ok(last.maxRSS < 200 * 1024 * 1024, `peak RSS ${Math.round(last.maxRSS / 1024 / 1024)} MB`);
      await emu.exit();
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The real `serve` process
// ---------------------------------------------------------------------------------------------

function startServe(args: string[]): {
  child: ChildProcessWithoutNullStreams;
  port: Promise<number>;
  output: () => { stdout: string; stderr: string };
} {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const port = within(
    PATIENCE_MS,
    'serve prints its address',
    new Promise<number>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(stdout);
        if (m?.[1]) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`serve exited early (${code}): ${stderr}`)));
    }),
  );
  return { child, port, output: () => ({ stdout, stderr }) };
}

describe('emulator: a client that pipelines commands and never reads the answers', () => {
  test('the emulator stops reading from it: RSS bounded, others still served, the idle timeout drops it', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withEmulatorChild({ profile: 'escargot', idleTimeoutMs: 1500 }, async (emu, port) => {
      const before = await emu.mem();
      const c = await client(port);
      c.socket.pause();
      c.socket.write('VER 1 MSNP8 CVR0\r\n');
      // Every CVR line has an answer of about its own size; before the fix the emulator buffered
      // them all (about 5 MB of memory per MB sent, over 600 MB after 8 s).
      const cvr = Buffer.from('CVR 2 0x0409 win 4.10 i386 MSNMSGR 5.0.0540 MSMSGS a@b.c\r\n'.repeat(2000));
      const sent = await flood(c.socket, cvr, 200 * 1024 * 1024, 3000);
      await stillAnswers({ port }, [8, 21]);
      const during = await emu.mem();
      assert.ok(
        during.maxRSS - before.rss < 64 * 1024 * 1024,
        `emulator RSS grew from ${Math.round(before.rss / 1048576)} MB to a peak of ` +
          `${Math.round(during.maxRSS / 1048576)} MB; the client sent ${Math.round(sent / 1048576)} MB`,
      );
      // The stalled connection has no traffic in either direction, so the idle timeout ends it
      // (possibly while the flood above was still writing).
      await within(PATIENCE_MS, 'idle timeout drops the stalled client', c.closed);
      const after = await emu.idle();
      assert.equal(after.stats.active, 0, JSON.stringify(after.stats));
      await emu.exit();
    });
  });
});

describe('emulator: connections that go away or stall, counted in the heap', () => {
  test('clients that leave while a --delay reply waits leave nothing behind', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withEmulatorChild({ profile: 'escargot', delayMs: 30 }, async (emu, port) => {
      const before = await emu.mem();
      for (let round = 0; round < 40; round++) {
        const clients = await Promise.all(range(1, 100).map(() => client(port)));
        for (const c of clients) c.socket.end('VER 1 MSNP8 CVR0\r\n');
        await Promise.all(clients.map((c) => within(PATIENCE_MS, 'client gone', c.closed)));
      }
      await sleep(200);
      const after = await emu.idle();
      assert.equal(after.stats.active, 0, JSON.stringify(after.stats));
      assert.ok(after.stats.connections >= 4000, JSON.stringify(after.stats));
      // Before the fix each such connection stayed in memory (about 4 KB: 16 MB for these 4,000).
      const growth = after.heapUsed - before.heapUsed;
      assert.ok(growth < 6 * 1024 * 1024, `heap grew ${Math.round(growth / 1024)} KiB over 4,000 connections`);
      await emu.exit();
    });
  });
  test('50 stalled clients pipelining tiny commands: memory bounded, and other clients are still served', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withEmulatorChild({ profile: 'escargot' }, async (emu, port) => {
      const before = await emu.mem();
      const tiny = Buffer.from('CVR 2\r\n'.repeat(4096));
      const clients = await Promise.all(range(1, 50).map(() => client(port)));
      await Promise.all(
        clients.map((c) => {
          c.socket.pause();
          c.socket.write('VER 1 MSNP8 CVR0\r\n');
          return flood(c.socket, tiny, 1024 * 1024, 2000);
        }),
      );
      const during = await emu.mem();
      const growth = during.heapUsed - before.heapUsed;
      assert.ok(growth < 12 * 1024 * 1024, `heap grew ${Math.round(growth / 1024)} KiB for 50 stalled clients`);
      // Answering thousands of pipelined lines in one go used to hold the event loop until a normal
      // probe timed out; the emulator now yields between slices of a read chunk.
      await stillAnswers({ port }, [8, 21]);
      for (const c of clients) c.socket.destroy();
      await emu.exit();
    });
  });
});

describe('bin serve under abuse', () => {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    test(`serve survives abuse, answers probes, and ${sig} stops it with exit 0 while clients are still connected`, {
      timeout: TEST_TIMEOUT_MS,
    }, async () => {
      const serve = startServe(['--profile', 'escargot', '--fault', '21:endless']);
      const exited = once(serve.child, 'exit');
      try {
        const port = await serve.port;
        const garbage = await Promise.all(
          GARBAGE.map(async (g) => {
            const c = await client(port);
            c.socket.write(g);
            return c;
          }),
        );
        const over = await client(port);
        await flood(over.socket, Buffer.alloc(64 * 1024, 0x41), 4 * 1024 * 1024);
        await within(PATIENCE_MS, 'over-long line dropped', over.closed);
        const idle = await Promise.all(range(1, 20).map(() => client(port)));
        for (const c of idle) c.socket.write('VER 1 MSN');
        // An endless reply to a client that never reads: the emulator blocks on drain.
        const stuck = await client(port);
        stuck.socket.pause();
        stuck.socket.write('VER 1 MSNP21 CVR0\r\n');
        await stillAnswers({ port }, range(2, 20));
        await sleep(100);
        serve.child.kill(sig);
        const [code, signal] = await within(PATIENCE_MS, `exit after ${sig}`, exited);
        assert.equal(signal, null, 'exited by itself, not killed by the signal');
        assert.equal(code, 0, serve.output().stderr);
        const { stdout, stderr } = serve.output();
        assert.match(stdout, new RegExp(`stopped \\(${sig}\\)`));
        assert.equal(stderr, '');
        // Its connections were closed, not left hanging (the stuck client must read to see the FIN).
        stuck.socket.resume();
        await within(
          PATIENCE_MS,
          'clients closed by the server',
          Promise.all([...idle, ...garbage, stuck].map((c) => c.closed)),
        );
      } finally {
        if (serve.child.exitCode === null && serve.child.signalCode === null) serve.child.kill('SIGKILL');
      }
    });
  }
});
