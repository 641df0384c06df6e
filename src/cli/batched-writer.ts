/** Flush when this much is waiting, or at the end of the event-loop turn, whichever comes first. */
const BATCH_BYTES = 64 * 1024;

export interface Sink {
  write(text: string): unknown;
  once?: (event: 'drain', listener: () => void) => unknown;
}

/**
 * Gathers many small writes (an NDJSON line per target) into few large ones, and applies the
 * sink's back-pressure through one shared promise, so a slow pipe holds the prober back instead of
 * its memory growing, and no listener is added per line.
 */
export class BatchedWriter {
  readonly #sink: Sink;
  readonly #stop: AbortSignal | undefined;
  #buffer = '';
  #scheduled = false;
  #drain: Promise<void> | null = null;

  /**
   * Once `stop` aborts (the sink failed: it will never drain), waits for drain end and what is
   * written later is dropped.
   */
  constructor(sink: Sink, stop?: AbortSignal) {
    this.#sink = sink;
    this.#stop = stop;
  }

  /** Resolves at once, or when the sink has drained if it is full. */
  write(text: string): Promise<void> {
    this.#buffer += text;
    if (this.#buffer.length >= BATCH_BYTES) this.#flushNow();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#flushNow();
      });
    }
    return this.#drain ?? Promise.resolve();
  }

  /** Writes whatever is waiting; resolves when the sink can take more. */
  flush(): Promise<void> {
    this.#flushNow();
    return this.#drain ?? Promise.resolve();
  }

  #flushNow(): void {
    if (this.#stop?.aborted) this.#buffer = '';
    if (this.#buffer === '') return;
    const text = this.#buffer;
    this.#buffer = '';
    const ok = this.#sink.write(text);
    if (ok === false && this.#drain === null && typeof this.#sink.once === 'function') {
      const stop = this.#stop;
      this.#drain = new Promise((resolve) => {
        const done = (): void => {
          stop?.removeEventListener('abort', done);
          this.#drain = null;
          resolve();
        };
        this.#sink.once?.('drain', done);
        stop?.addEventListener('abort', done, { once: true });
      });
    }
  }
}
