/**
 * A one-line progress report on stderr for multi-target runs, redrawn at most every 250 ms.
 * Only used when stderr is a TTY, so it never mixes into piped output.
 */
export class Progress {
  readonly #write: (text: string) => void;
  readonly #started = Date.now();
  readonly #total: number | null;
  #targets = 0;
  #probes = 0;
  #lastDraw = 0;
  #drawn = false;

  constructor(write: (text: string) => void, total: number | null) {
    this.#write = write;
    this.#total = total;
  }

  done(probes: number): void {
    this.#targets++;
    this.#probes += probes;
    const now = Date.now();
    if (now - this.#lastDraw >= 250) {
      this.#lastDraw = now;
      this.#write(`\r\x1b[2K${this.line(now)}`);
      this.#drawn = true;
    }
  }

  line(now = Date.now()): string {
    const seconds = Math.max((now - this.#started) / 1000, 0.001);
    const rate = this.#probes / seconds;
    let text = `${this.#targets}${this.#total !== null ? `/${this.#total}` : ''} targets, ${this.#probes} probes, ${rate.toFixed(1)} probes/s`;
    if (this.#total !== null && this.#targets > 0) {
      const eta = ((this.#total - this.#targets) * seconds) / this.#targets;
      text += `, ETA ${formatDuration(eta)}`;
    }
    return text;
  }

  /** Clears the line so what follows starts clean. */
  finish(): void {
    if (this.#drawn) this.#write('\r\x1b[2K');
  }
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}
