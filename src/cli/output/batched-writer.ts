/** Flush when this much is waiting, or at the end of the event-loop turn, whichever comes first. */
const BATCH_BYTES = 64 * 1024;

export interface Sink {
  write(text: string): unknown;
  once?: (event: 'drain', listener: () => void) => unknown;
}

/**
 * Gathers many small writes (an NDJSON line per target) into few large ones, and applies the
 * sink's back-pressure: while the sink is full nothing more is handed to it (a pipe that queues
 * several large reports at once fails with ENOBUFS), and every write resolves only once all that
 * is waiting has been taken, so a slow pipe holds the prober back instead of its memory growing.
 * Waiting text is kept as separate pieces: joined, large reports could pass a string's maximum length.
 */
export class BatchedWriter {
  readonly #sink: Sink;
  readonly #stop: AbortSignal | undefined;
  #pieces: string[] = [];
  #size = 0;
  #scheduled = false;
  #waiting = false;
  #idle: { promise: Promise<void>; resolve: () => void } | null = null;

  /**
   * Once `stop` aborts (the sink failed: it will never drain), every wait ends and what is
   * written later is dropped.
   */
  constructor(sink: Sink, stop?: AbortSignal) {
    this.#sink = sink;
    this.#stop = stop;
    stop?.addEventListener(
      'abort',
      () => {
        this.#pieces = [];
        this.#size = 0;
        this.#waiting = false;
        this.#settle();
      },
      { once: true },
    );
  }

  /** Resolves at once, or when the sink has taken everything waiting if it is full. */
  write(text: string): Promise<void> {
    if (this.#stop?.aborted || text === '') return this.#whenIdle();
    this.#pieces.push(text);
    this.#size += text.length;
    if (this.#size >= BATCH_BYTES) this.#pump();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#pump();
      });
    }
    return this.#whenIdle();
  }

  /** Writes whatever is waiting; resolves when the sink has taken it. */
  flush(): Promise<void> {
    this.#pump();
    return this.#whenIdle();
  }

  #whenIdle(): Promise<void> {
    if (!this.#waiting && this.#pieces.length === 0) return Promise.resolve();
    if (this.#idle === null) {
      let resolve = (): void => undefined;
      const promise = new Promise<void>((r) => (resolve = r));
      this.#idle = { promise, resolve };
    }
    return this.#idle.promise;
  }

  #settle(): void {
    if (this.#waiting || this.#pieces.length > 0 || this.#idle === null) return;
    const { resolve } = this.#idle;
    this.#idle = null;
    resolve();
  }

  #pump(): void {
    while (!this.#waiting && this.#pieces.length > 0) {
      // Small pieces go out together; a piece larger than a batch goes alone.
      let n = 0;
      let count = 0;
      for (const piece of this.#pieces) {
        if (count > 0 && n + piece.length > BATCH_BYTES) break;
        n += piece.length;
        count++;
      }
      const chunk = this.#pieces.splice(0, count).join('');
      this.#size -= n;
      const ok = this.#sink.write(chunk);
      if (ok === false && typeof this.#sink.once === 'function') {
        this.#waiting = true;
        this.#sink.once('drain', () => {
          if (!this.#waiting) return;
          this.#waiting = false;
          this.#pump();
        });
      }
    }
    this.#settle();
  }
}
