import { setMaxListeners } from 'node:events';
import type { Io } from './io.js';

export type StopSignal = 'SIGINT' | 'SIGTERM';

/**
 * When a probe run stops early. Ctrl-C or SIGTERM stops the probes (their sockets close) and keeps
 * what finished; output that cannot be written stops them too, since nobody would see the rest.
 */
export class RunControl {
  readonly #stop = new AbortController();
  readonly #release: (() => void) | undefined;
  #interrupted: StopSignal | null = null;

  constructor(io: Io) {
    // Every connection in flight listens to it: many more than Node's leak warning expects.
    setMaxListeners(0, this.#stop.signal);
    this.#release = io.onInterrupt?.((signal) => {
      this.#interrupted ??= signal;
      this.stop(new Error(`interrupted by ${signal}`));
    });
  }

  get signal(): AbortSignal {
    return this.#stop.signal;
  }

  /** The signal that stopped the run, if one did. */
  get interrupted(): StopSignal | null {
    return this.#interrupted;
  }

  stop(reason: unknown): void {
    this.#stop.abort(reason);
  }

  /** Waits for `scanning`; a stop rejects it with its reason, which is no failure of the run. */
  async finish(scanning: Promise<void>): Promise<void> {
    try {
      await scanning;
    } catch (err) {
      if (!this.signal.aborted) throw err;
    }
  }

  /** Stops listening for signals. */
  release(): void {
    this.#release?.();
  }
}
