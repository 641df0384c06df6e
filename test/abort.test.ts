/**
 * Every library entry point settles promptly when its signal aborts, and opens no connection
 * after it: a probe waiting behind a shared budget (`gate`), over TCP and over the HTTP gateway,
 * and a scan whose target source stalls.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { getEventListeners } from 'node:events';
import { withEmulator } from './helpers.js';
import { probe } from '../src/probe/probe.js';
import { limiter } from '../src/probe/limiter.js';
import { BudgetRegistry } from '../src/probe/budget.js';
import { scan } from '../src/probe/scan.js';
import type { Target } from '../src/input/target.js';

/** Rejects if `p` has not settled within `ms`; the bound only guards against a hang. */
async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A listener that counts connections and answers nothing. */
async function counting(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    port: address.port,
    connections: () => connections,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

describe('abort: a probe waiting behind a shared gate', () => {
  for (const transport of ['tcp', 'http'] as const) {
    test(`${transport}: rejects at once, and connects to nothing when the gate frees up`, async () => {
      const server = await counting();
      // A plain limiter, as a caller's own p-limit would be: it knows nothing of the probe's signal.
      const gate = limiter(1);
      let release = (): void => undefined;
      const held = gate(() => new Promise<void>((resolve) => (release = resolve)));
      const controller = new AbortController();
      try {
        const { port } = server;
        const running = probe({
          host: '127.0.0.1',
          port,
          transport,
          versions: [8],
          offer: false,
          gate,
          signal: controller.signal,
        });
        // Let the probe get in line behind the held slot.
        await new Promise((resolve) => setImmediate(resolve));
        controller.abort(new Error('stop'));
        // The gate is still held: only the abort can settle the probe.
        await within(10_000, 'aborted probe', assert.rejects(running, /stop/));
        release();
        await held;
        // Every turn queued before this one has run once this one runs.
        await gate(() => Promise.resolve());
        assert.equal(server.connections(), 0);
      } finally {
        release();
        await server.close();
      }
    });
  }
});

describe("abort: a probe waiting for its server's budget, held by another call", () => {
  test('rejects at once, connects to nothing, and the other call goes on', async () => {
    const server = await counting();
    const budgets = new BudgetRegistry();
    const holder = new AbortController();
    const waiter = new AbortController();
    const common = { host: '127.0.0.1', port: server.port, versions: [8], offer: false, concurrency: 1, budgets };
    try {
      // The server answers nothing: the first call holds the server's one slot until aborted.
      const first = probe({ ...common, timeoutMs: 60_000, signal: holder.signal });
      first.catch(() => undefined);
      while (server.connections() === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const second = probe({ ...common, signal: waiter.signal });
      await new Promise((resolve) => setImmediate(resolve));
      waiter.abort(new Error('stop'));
      await within(10_000, 'aborted probe', assert.rejects(second, /stop/));
      assert.equal(server.connections(), 1);
      assert.equal(getEventListeners(waiter.signal, 'abort').length, 0);
      holder.abort(new Error('done'));
      await within(10_000, 'first probe', assert.rejects(first, /done/));
      // The slot the aborted waiter gave up is free: a later call runs.
      const third = probe({ ...common, timeoutMs: 200 });
      assert.equal((await within(10_000, 'third probe', third)).probes[0]?.status, 'timeout');
      assert.equal(server.connections(), 2);
    } finally {
      await server.close();
    }
  });
});

describe('abort: a probe waiting for its name to resolve', () => {
  test('a lookup that never answers', async () => {
    const controller = new AbortController();
    const lookup = (): Promise<never> => new Promise(() => undefined);
    const running = probe({ host: 'stalled.test', lookup, signal: controller.signal });
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort(new Error('stop'));
    await within(10_000, 'aborted probe', assert.rejects(running, /stop/));
  });
});

describe('abort: scan with a source that never yields', () => {
  test('a bare async iterator whose next() never settles', async () => {
    const stalled: AsyncIterable<Target> = {
      [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<Target>>(() => undefined) }),
    };
    const controller = new AbortController();
    const running = scan(stalled, { signal: controller.signal }, () => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort(new Error('stop'));
    await within(10_000, 'aborted scan', assert.rejects(running, /stop/));
  });

  test('an async generator stuck on its input (return() cannot answer before next())', async () => {
    async function* stuck(): AsyncGenerator<Target> {
      await new Promise(() => undefined);
      yield { host: '127.0.0.1', port: 9 };
    }
    const controller = new AbortController();
    const running = scan(stuck(), { signal: controller.signal }, () => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort(new Error('stop'));
    await within(10_000, 'aborted scan', assert.rejects(running, /stop/));
  });

  test('targets after the abort are not probed', async () => {
    const server = await counting();
    try {
      const controller = new AbortController();
      let pulls = 0;
      async function* source(): AsyncGenerator<Target> {
        pulls++;
        controller.abort(new Error('stop'));
        yield { host: '127.0.0.1', port: server.port };
      }
      const running = scan(source(), { signal: controller.signal, offer: false, versions: [8] }, () => undefined);
      await within(10_000, 'aborted scan', assert.rejects(running, /stop/));
      assert.equal(pulls, 1);
      assert.equal(server.connections(), 0);
    } finally {
      await server.close();
    }
  });
});

describe('a shared signal', () => {
  test('many connections on one signal: no MaxListenersExceededWarning, no listener left after', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      if (w.name === 'MaxListenersExceededWarning') warnings.push(w.message);
    };
    process.on('warning', onWarning);
    try {
      await withEmulator({ profile: 'escargot', host: '127.0.0.1', port: 0 }, async (emu) => {
        const { signal } = new AbortController();
        const report = await probe({ host: '127.0.0.1', port: emu.port, concurrency: 21, signal });
        assert.equal(report.accepted.length, 20);
        const targets = Array.from({ length: 30 }, () => ({ host: '127.0.0.1', port: emu.port }));
        await scan(targets, { signal, versions: [8, 9] }, () => undefined);
        assert.equal(getEventListeners(signal, 'abort').length, 0);
      });
      // Warnings are emitted on a later tick.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(warnings, []);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
