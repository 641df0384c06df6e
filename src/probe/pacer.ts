import { setMaxListeners } from 'node:events';
import type { Gate } from './probe.js';
import { ABORT_AWARE } from './limiter.js';

export interface PacerOptions {
  /** New connections per second to one target; 0 or undefined: no limit. */
  ratePerSecond?: number;
  /** Spread of each interval, as a fraction (0.2: +-20%), so several probers do not fall into step. */
  jitter?: number;
  /** First back-off after a busy answer or a reset; it doubles up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  random?: () => number;
  now?: () => number;
}

/**
 * The clock pacing reads: milliseconds that only move forward. Date.now() follows the wall clock,
 * which a time sync or a resumed machine may step by minutes in either direction.
 */
export const monotonic = (): number => performance.now();

export const DEFAULT_BACKOFF_MS = 500;
/** At most one new connection per 2 s to a struggling server: polite, yet a dead one costs seconds, not minutes. */
export const DEFAULT_MAX_BACKOFF_MS = 2000;

/**
 * Spaces out the connections to one target: at most `ratePerSecond`, with jitter, and an
 * exponential back-off after busy codes and resets that clears on the next clean answer.
 *
 * Two steps, because a connection may wait for the shared budget (`--global-concurrency`) after
 * its turn here: `reserve()` before that wait says how long to sleep, and `start()` after it
 * checks the spacing against the connection that actually started last, so connections the
 * budget held back do not then leave together in a burst.
 */
export class Pacer {
  readonly #interval: number;
  readonly #jitter: number;
  readonly #firstBackoff: number;
  readonly #maxBackoff: number;
  readonly #random: () => number;
  readonly #now: () => number;
  #nextAt = 0;
  #lastStart = Number.NEGATIVE_INFINITY;
  #backoff = 0;

  constructor(options: PacerOptions = {}) {
    const rate = options.ratePerSecond ?? 0;
    this.#interval = rate > 0 ? 1000 / rate : 0;
    this.#jitter = options.jitter ?? 0.2;
    this.#firstBackoff = options.backoffMs ?? DEFAULT_BACKOFF_MS;
    this.#maxBackoff = options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? monotonic;
  }

  /** The least time between two connection starts: the rate's shortest jittered interval, or the back-off. */
  #minGap(): number {
    return Math.max(this.#interval * (1 - this.#jitter), this.#backoff);
  }

  /** Milliseconds until the next connection may start, reserving that slot. */
  reserve(): number {
    const now = this.#now();
    const at = Math.max(now, this.#nextAt, this.#lastStart + this.#minGap());
    const spread = 1 + this.#jitter * (2 * this.#random() - 1);
    this.#nextAt = at + this.#interval * spread;
    return at - now;
  }

  /**
   * Called just before connecting: true, and the start is recorded, if it keeps the spacing from
   * the last start; false if not (reserve again and wait).
   */
  start(): boolean {
    const now = this.#now();
    if (now < this.#lastStart + this.#minGap()) return false;
    this.#lastStart = now;
    return true;
  }

  /** The server said it is busy, or reset us: hold off further connections. */
  backoff(): void {
    this.#backoff = this.#backoff === 0 ? this.#firstBackoff : Math.min(this.#backoff * 2, this.#maxBackoff);
    this.#nextAt = Math.max(this.#nextAt, this.#now() + this.#backoff);
  }

  /** A clean answer: the next back-off starts small again. */
  relax(): void {
    this.#backoff = 0;
  }

  /** How long a new connection would still have to wait (0: none): a budget owing a wait outlives its users. */
  pendingMs(): number {
    return Math.max(0, this.#nextAt - this.#now(), this.#lastStart + this.#minGap() - this.#now());
  }

  get currentBackoffMs(): number {
    return this.#backoff;
  }
}

/**
 * A shared budget that gives up its place on abort: the caller's promise rejects at once, and a
 * turn that comes after the abort runs nothing (no connection is opened for an aborted call).
 */
export function abortableGate(gate: Gate, signal: AbortSignal | undefined): Gate {
  // scan()'s own budget already does this for its signal, which every probe's signal follows.
  if (!signal || ABORT_AWARE in gate) return gate;
  return <T>(fn: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      gate(() => (signal.aborted ? Promise.reject(signal.reason as Error) : fn()))
        .then(resolve, reject)
        .finally(() => signal.removeEventListener('abort', onAbort));
    });
}

/** `p`, or a rejection with the signal's reason as soon as it aborts (`p` is then left to itself). */
export function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) {
      p.catch(() => undefined);
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      p.catch(() => undefined);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * A signal of our own that follows `outer`: every connection, wait and gate of one call listens
 * on it, so the caller's signal carries one listener per call (not one per connection, which
 * set off MaxListenersExceededWarning), and `release` takes that one off when the call is over.
 */
export function linkedSignal(outer: AbortSignal | undefined): { signal: AbortSignal | undefined; release: () => void } {
  if (!outer) return { signal: undefined, release: () => undefined };
  const inner = new AbortController();
  setMaxListeners(0, inner.signal);
  if (outer.aborted) {
    inner.abort(outer.reason);
    return { signal: inner.signal, release: () => undefined };
  }
  const onAbort = (): void => inner.abort(outer.reason);
  outer.addEventListener('abort', onAbort, { once: true });
  return { signal: inner.signal, release: () => outer.removeEventListener('abort', onAbort) };
}
