import type { Gate } from './probe.js';

/** Marks a gate that already rejects its waiters when its scan's signal aborts (see abortableGate). */
export const ABORT_AWARE: unique symbol = Symbol('msnp-probe.abortAware');

export interface Limiter extends Gate {
  /**
   * Like the call without `signal`, but a call that has to wait gives up its place as soon as
   * `signal` aborts (its promise rejects with the reason and `fn` never runs), and a call made
   * after the abort runs nothing. Only a waiting call listens: one that runs at once costs no listener.
   */
  <T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Drops every call still waiting for its turn: they never run and never settle. */
  clearQueue(): void;
  readonly activeCount: number;
  readonly pendingCount: number;
  readonly [ABORT_AWARE]?: true;
}

interface Waiter {
  fn: () => Promise<unknown>;
  own: AbortSignal | undefined;
  /** Settle the caller's promise. */
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
  /** Set when the waiter's own signal aborted: its turn is skipped. */
  gone?: true;
  /** Takes the waiter's abort listener off its own signal. */
  unlisten?: () => void;
}

/**
 * At most `concurrency` calls of `fn` running at once, in the order they came: p-limit's contract
 * at a fraction of its cost per call, which matters at one call per connection. p-limit wraps each
 * call in three promises, an async function and a queue item; this takes one promise for a call
 * that runs at once, and for one that waits, the promise it returns and the queue item that holds
 * its `fn` and settles it. With `signal`, waiting calls reject with its reason as soon as it aborts
 * (one listener for the whole limiter, not one per call) and a turn that comes after the abort
 * runs nothing.
 */
export function limiter(concurrency: number, signal?: AbortSignal): Limiter {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new TypeError('concurrency must be at least 1');
  let active = 0;
  let queue: Waiter[] = [];
  let head = 0;
  const pending = (): number => {
    let n = 0;
    for (let i = head; i < queue.length; i++) if (!queue[i]?.gone) n++;
    return n;
  };

  /** The next waiter still wanting its turn, taken off the queue. */
  const take = (): Waiter | undefined => {
    let next = queue[head];
    while (next?.gone) {
      queue[head++] = undefined as unknown as Waiter;
      next = queue[head];
    }
    if (next === undefined) return undefined;
    queue[head++] = undefined as unknown as Waiter;
    if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    return next;
  };
  /**
   * A waiter's turn: runs its `fn` in the slot just freed and settles its promise from `fn`'s,
   * with no promise in between. False when it could not run (an abort, or `fn` threw): the slot
   * is then free again.
   */
  const handOver = (waiter: Waiter): boolean => {
    waiter.unlisten?.();
    const { own } = waiter;
    if (signal?.aborted || own?.aborted) {
      waiter.reject((signal?.aborted ? signal : own)?.reason);
      return false;
    }
    let running: Promise<unknown>;
    try {
      running = waiter.fn();
    } catch (err) {
      waiter.reject(err);
      return false;
    }
    running.then(release, release);
    running.then(waiter.resolve, waiter.reject);
    return true;
  };
  const release = (): void => {
    // A loop rather than a call from handOver back to here: a run of turns that cannot start
    // must not grow the stack.
    for (;;) {
      const next = take();
      if (next === undefined) {
        active--;
        return;
      }
      // The slot passes straight to the next caller: `active` stays as it is.
      if (handOver(next)) return;
    }
  };
  const start = <T>(fn: () => Promise<T>, own?: AbortSignal): Promise<T> => {
    if (signal?.aborted || own?.aborted) {
      release();
      return Promise.reject((signal?.aborted ? signal : own)?.reason);
    }
    let running: Promise<T>;
    try {
      running = fn();
    } catch (err) {
      release();
      return Promise.reject(err);
    }
    running.then(release, release);
    return running;
  };
  const gate = <T>(fn: () => Promise<T>, own?: AbortSignal): Promise<T> => {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (own?.aborted) return Promise.reject(own.reason);
    if (active < concurrency) {
      active++;
      return start(fn, own);
    }
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = { fn, own, resolve: resolve as (value: unknown) => void, reject };
      if (own) {
        const onAbort = (): void => {
          waiter.gone = true;
          reject(own.reason);
        };
        own.addEventListener('abort', onAbort, { once: true });
        waiter.unlisten = () => own.removeEventListener('abort', onAbort);
      }
      queue.push(waiter);
    });
  };
  const clearQueue = (): void => {
    for (let i = head; i < queue.length; i++) queue[i]?.unlisten?.();
    queue = [];
    head = 0;
  };
  signal?.addEventListener(
    'abort',
    () => {
      const waiting = queue.slice(head);
      clearQueue();
      for (const w of waiting) w.reject(signal.reason);
    },
    { once: true },
  );
  Object.defineProperties(gate, {
    clearQueue: { value: clearQueue },
    activeCount: { get: () => active },
    pendingCount: { get: pending },
    // Only a limiter that watches a signal rejects its waiters on abort by itself.
    ...(signal ? { [ABORT_AWARE]: { value: true } } : {}),
  });
  return gate as Limiter;
}
