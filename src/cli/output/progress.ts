/**
 * A one-line progress report on stderr for multi-target runs: redrawn when targets finish (at most
 * every 250 ms) and every second meanwhile, so a slow target does not freeze it. Only used when
 * stderr is a TTY, so it never mixes into piped output; `around()` keeps it off rows written to
 * the same terminal on stdout.
 */
export class Progress {
  readonly #write: (text: string) => void;
  readonly #started = performance.now();
  #total: number | null;
  #targets = 0;
  #probes = 0;
  // Not 0: the monotonic clock starts near 0 with the process, and the first target must draw at once.
  #lastDraw = Number.NEGATIVE_INFINITY;
  #drawn = false;
  #timer: NodeJS.Timeout | null = null;

  constructor(write: (text: string) => void, total: number | null, options: { tick?: boolean } = {}) {
    this.#write = write;
    this.#total = total;
    if (options.tick ?? true) {
      this.#timer = setInterval(() => this.#draw(performance.now()), 1000);
      this.#timer.unref();
    }
  }

  /** The list's length, once known (a file is counted while it is probed). */
  setTotal(total: number): void {
    this.#total = total;
  }

  done(probes: number): void {
    this.#targets++;
    this.#probes += probes;
    const now = performance.now();
    if (now - this.#lastDraw >= 250) this.#draw(now);
  }

  #draw(now: number): void {
    this.#lastDraw = now;
    this.#write(`\r\x1b[2K${this.line(now)}`);
    this.#drawn = true;
  }

  line(now = performance.now()): string {
    const seconds = Math.max((now - this.#started) / 1000, 0.001);
    const rate = this.#probes / seconds;
    const of = this.#total !== null ? `/${this.#total}` : '';
    let text = `${this.#targets}${of} targets, ${this.#probes} probes, ${rate.toFixed(1)} probes/s`;
    if (this.#total !== null && this.#targets > 0) {
      const eta = ((this.#total - this.#targets) * seconds) / this.#targets;
      text += `, ETA ${formatDuration(eta)}`;
    }
    return text;
  }

  /** Runs `write` (output for the same terminal) with the line taken away, then puts it back. */
  around<T>(write: () => T): T {
    if (!this.#drawn) return write();
    this.#write('\r\x1b[2K');
    const result = write();
    this.#write(this.line());
    return result;
  }

  /** Stops redrawing and clears the line so what follows starts clean. */
  finish(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#drawn) this.#write('\r\x1b[2K');
    this.#drawn = false;
  }
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}
