import { setTimeout as sleep } from 'node:timers/promises';
import { monotonic, Pacer } from './pacer.js';
import { limiter, type Limiter } from './limiter.js';
import { OPTION_LIMITS } from '../core/limits.js';
import { DEFAULT_MAX_RATE } from '../core/defaults.js';
import { msnpError } from '../core/errors.js';

/**
 * The per-server bounds (`concurrency`, `ratePerSecond`, the back-off) of one server, shared by
 * every target that reaches it: duplicate list lines, a name and its address, a redirect to it.
 */
export interface ServerBudget {
  /**
   * Connections in flight to this server. The project's own limiter (p-limit's contract) rather
   * than p-limit: it is taken once per connection, and a call that runs at once costs one promise
   * here, where p-limit's costs three and an async function. Each call passes its own signal: the
   * targets sharing a server may belong to different calls.
   */
  readonly limit: Limiter;
  /** Spacing and back-off of the connections to this server. */
  readonly pacer: Pacer;
}

export interface BudgetSettings {
  concurrency: number;
  ratePerSecond: number;
}

interface Entry {
  budget: ServerBudget;
  users: number;
  /** Set while an unused entry is kept for its pacing: it dies when the timer fires. */
  timer?: NodeJS.Timeout;
}

/** A held budget: `release()` once the target is done with it (a second call does nothing). */
export interface BudgetLease {
  readonly budget: ServerBudget;
  release(): void;
}

/**
 * The key of a server: the address (and port) connections go to, so that `localhost`, `127.1`
 * and `127.0.0.1` count as one server. Without an address (a name a SOCKS proxy resolves), the
 * name, lower-cased and without a final dot, stands for it.
 */
export function serverKey(address: string | null, host: string, port: number): string {
  if (address !== null) return `${address.toLowerCase()}|${port}`;
  return `name:${host.toLowerCase().replace(/\.$/, '')}|${port}`;
}

/**
 * Hands out one budget per server for a whole run. An entry lives while a target uses it, and
 * after that only as long as its pacing still owes a wait (so a duplicate line probed right after
 * another does not start with a clean slate), so a /8 scan holds entries for the targets in
 * flight, not for every address it has seen. The first user's settings make the budget.
 */
export class BudgetRegistry {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? monotonic;
  }

  acquire(key: string, settings: BudgetSettings): BudgetLease {
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = {
        budget: {
          limit: limiter(settings.concurrency),
          pacer: new Pacer({ ratePerSecond: settings.ratePerSecond, now: this.#now }),
        },
        users: 0,
      };
      this.#entries.set(key, entry);
    }
    if (entry.timer) {
      clearTimeout(entry.timer);
      delete entry.timer;
    }
    entry.users++;
    const held = entry;
    let released = false;
    return {
      budget: held.budget,
      release: () => {
        if (released) return;
        released = true;
        if (--held.users > 0) return;
        const owed = held.budget.pacer.pendingMs();
        if (owed <= 0) {
          this.#entries.delete(key);
          return;
        }
        // Unref'd: a pacing debt must not keep a finished process alive.
        held.timer = setTimeout(() => {
          if (held.users === 0 && this.#entries.get(key) === held) this.#entries.delete(key);
        }, owed).unref();
      },
    };
  }

  /** Servers with a live budget (for tests and the curious). */
  get size(): number {
    return this.#entries.size;
  }
}

/**
 * A token bucket of one token: connections start at most `ratePerSecond` a second across
 * everything that shares it, evenly spaced (no burst after a quiet spell, the promise of
 * `--max-rate`). Each `reserve()` takes the next free slot and says how long to wait for it.
 */
export class RateLimiter {
  readonly #interval: number;
  readonly #now: () => number;
  #nextAt = Number.NEGATIVE_INFINITY;

  constructor(ratePerSecond: number, options: { now?: () => number } = {}) {
    if (!Number.isFinite(ratePerSecond) || ratePerSecond <= 0) {
      throw new RangeError(`rate ${ratePerSecond} must be a positive number per second`);
    }
    this.#interval = 1000 / ratePerSecond;
    this.#now = options.now ?? monotonic;
  }

  /** Milliseconds until the reserved start (0: now). */
  reserve(): number {
    const now = this.#now();
    const at = Math.max(now, this.#nextAt);
    this.#nextAt = at + this.#interval;
    return at - now;
  }

  /** Waits for a slot; rejects with the signal's reason on abort (the slot is then lost, which only slows the run). */
  async take(signal?: AbortSignal): Promise<void> {
    const delay = this.reserve();
    if (delay <= 0) return;
    try {
      await sleep(delay, undefined, signal ? { signal } : undefined);
    } catch (err) {
      throw signal?.aborted ? signal.reason : err;
    }
  }
}

/** A limiter for `maxRate` (undefined or 0: none); throws MsnpProbeError ERR_OPTION on a bad rate. */
export function rateLimiterFor(given: number | undefined): RateLimiter | undefined {
  const maxRate = given ?? DEFAULT_MAX_RATE;
  if (maxRate === 0) return undefined;
  const { min, max } = OPTION_LIMITS.maxRate;
  if (!Number.isFinite(maxRate) || maxRate < min || maxRate > max) {
    throw msnpError('ERR_OPTION', `max rate ${maxRate} must be from ${min} to ${max} connections per second`);
  }
  return new RateLimiter(maxRate);
}
