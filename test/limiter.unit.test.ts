import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ABORT_AWARE, limiter } from '../src/probe/limiter.js';
import { getEventListeners } from 'node:events';
import { abortableGate } from '../src/probe/pacer.js';

/** A task the test finishes by hand. */
function deferred(): { promise: Promise<string>; resolve: (v: string) => void; reject: (e: Error) => void } {
  let resolve!: (v: string) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

test('limiter: never more than its concurrency at once, and turns in the order asked', async () => {
  const limit = limiter(2);
  const tasks = Array.from({ length: 6 }, deferred);
  const started: number[] = [];
  let running = 0;
  let most = 0;
  const results = tasks.map((t, i) =>
    limit(async () => {
      started.push(i);
      running++;
      most = Math.max(most, running);
      try {
        return await t.promise;
      } finally {
        running--;
      }
    }),
  );
  await turn();
  assert.deepEqual(started, [0, 1]);
  assert.equal(limit.activeCount, 2);
  assert.equal(limit.pendingCount, 4);
  tasks[1]?.resolve('b');
  await turn();
  assert.deepEqual(started, [0, 1, 2]);
  // A rejected task frees its slot just as a resolved one does, and its caller sees the rejection.
  tasks[0]?.reject(new Error('boom'));
  await assert.rejects(results[0] as Promise<string>, /boom/);
  await turn();
  assert.deepEqual(started, [0, 1, 2, 3]);
  for (const [i, t] of tasks.entries()) t.resolve(String(i));
  assert.deepEqual(await Promise.all(results.slice(1)), ['b', '2', '3', '4', '5']);
  assert.equal(most, 2);
  assert.equal(limit.activeCount, 0);
});

test('limiter: a task that throws synchronously frees its slot', async () => {
  const limit = limiter(1);
  await assert.rejects(
    limit(() => {
      throw new Error('sync');
    }),
    /sync/,
  );
  assert.equal(await limit(() => Promise.resolve('next')), 'next');
  assert.equal(limit.activeCount, 0);
});

test('limiter: waiting tasks that throw synchronously reject, free their turns and let the next one run', async () => {
  const limit = limiter(1);
  const first = deferred();
  const a = limit(() => first.promise);
  // Many in a row: each passes its turn on to the next without growing the stack.
  const throwers = Array.from({ length: 20_000 }, (_, i) =>
    limit(() => {
      throw new Error(`sync ${i}`);
    }),
  );
  const last = limit(() => Promise.resolve('last'));
  assert.equal(limit.pendingCount, 20_001);
  first.resolve('a');
  assert.equal(await a, 'a');
  const settled = await Promise.allSettled(throwers);
  assert.ok(settled.every((r, i) => r.status === 'rejected' && (r.reason as Error).message === `sync ${i}`));
  assert.equal(await last, 'last');
  assert.equal(limit.activeCount, 0);
  assert.equal(limit.pendingCount, 0);
});

test('limiter: with a signal, waiting calls reject on abort and never run', async () => {
  const stop = new AbortController();
  const limit = limiter(1, stop.signal);
  const first = deferred();
  const ran: string[] = [];
  const a = limit(() => {
    ran.push('a');
    return first.promise;
  });
  const b = limit(() => {
    ran.push('b');
    return Promise.resolve('b');
  });
  await turn();
  stop.abort(new Error('stopped'));
  await assert.rejects(b, /stopped/);
  first.resolve('a');
  assert.equal(await a, 'a');
  await turn();
  assert.deepEqual(ran, ['a']);
  await assert.rejects(
    limit(() => Promise.resolve('late')),
    /stopped/,
  );
  assert.equal(limit.activeCount, 0);
});

test("limiter: a call's own signal: a waiting call rejects on its abort, never runs, and frees its turn", async () => {
  const limit = limiter(1);
  const first = deferred();
  const ran: string[] = [];
  const a = limit(() => {
    ran.push('a');
    return first.promise;
  });
  const stop = new AbortController();
  const b = limit(() => {
    ran.push('b');
    return Promise.resolve('b');
  }, stop.signal);
  const c = limit(() => {
    ran.push('c');
    return Promise.resolve('c');
  });
  await turn();
  assert.equal(limit.pendingCount, 2);
  stop.abort(new Error('stopped'));
  await assert.rejects(b, /stopped/);
  assert.equal(limit.pendingCount, 1);
  first.resolve('a');
  assert.equal(await a, 'a');
  assert.equal(await c, 'c');
  assert.deepEqual(ran, ['a', 'c']);
  assert.equal(limit.activeCount, 0);
  // Already aborted: rejects without running, and takes no slot.
  await assert.rejects(
    limit(() => Promise.resolve('late'), stop.signal),
    /stopped/,
  );
  assert.equal(limit.activeCount, 0);
});

test("limiter: a call's own signal costs no listener when it runs at once, and none is left after a wait", async () => {
  const limit = limiter(1);
  const own = new AbortController();
  const first = deferred();
  const a = limit(() => first.promise, own.signal);
  assert.equal(getEventListeners(own.signal, 'abort').length, 0);
  const b = limit(() => Promise.resolve('b'), own.signal);
  assert.equal(getEventListeners(own.signal, 'abort').length, 1);
  first.resolve('a');
  assert.deepEqual(await Promise.all([a, b]), ['a', 'b']);
  assert.equal(getEventListeners(own.signal, 'abort').length, 0);
  const held = deferred();
  const c = limit(() => held.promise);
  void limit(() => Promise.resolve('d'), own.signal);
  limit.clearQueue();
  assert.equal(getEventListeners(own.signal, 'abort').length, 0);
  held.resolve('c');
  assert.equal(await c, 'c');
});

test('limiter: a signal-aware limiter is used as is by abortableGate, a plain one is wrapped', () => {
  const signal = new AbortController().signal;
  const aware = limiter(1, signal);
  const plain = limiter(1);
  assert.ok(ABORT_AWARE in aware);
  assert.ok(!(ABORT_AWARE in plain));
  assert.equal(abortableGate(aware, signal), aware);
  assert.notEqual(abortableGate(plain, signal), plain);
});

test('limiter: clearQueue drops waiting calls, which never run', async () => {
  const limit = limiter(1);
  const first = deferred();
  let ran = false;
  const a = limit(() => first.promise);
  void limit(() => {
    ran = true;
    return Promise.resolve('x');
  });
  limit.clearQueue();
  assert.equal(limit.pendingCount, 0);
  first.resolve('a');
  assert.equal(await a, 'a');
  await turn();
  assert.equal(ran, false);
  assert.equal(limit.activeCount, 0);
});
