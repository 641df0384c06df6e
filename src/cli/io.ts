import { EXIT_CODES } from '../verdict/exit-code.js';

/** Exit codes: a public contract, documented in the README. */
export const EXIT = EXIT_CODES;

export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
  /** A terminal's width in columns (Node sets it on a TTY stream). */
  columns?: number;
  once?: (event: 'drain', listener: () => void) => unknown;
}

/** How writing standard output has gone so far. */
export interface OutputState {
  /** The errno code of the first failed write (`EPIPE`: the reader closed the pipe), or null. */
  readonly error: string | null;
  /** Calls `listener` once, on the first failed write; returns a function that cancels it. */
  onError(listener: (code: string) => void): () => void;
}

export interface Io {
  stdout: Output;
  stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  env: Record<string, string | undefined>;
  /** Standard input, for `--targets -`. */
  stdin?: AsyncIterable<Buffer | string>;
  /** Resolves when the user asks a long-running command (serve) to stop. */
  stopSignal?: () => Promise<string>;
  /** Failed writes to stdout; without it every write is taken to succeed. */
  output?: OutputState;
  /** Resolves once stdout has taken (or failed to take) everything written so far. */
  settle?: () => Promise<void>;
  /**
   * Calls `listener` on Ctrl-C (SIGINT) or SIGTERM until the returned function is called, so a
   * probe run can stop and keep what finished instead of dying mid-write.
   */
  onInterrupt?: (listener: (signal: 'SIGINT' | 'SIGTERM') => void) => () => void;
}

/** Below this many columns nothing is fitted: tables as narrow as that would say nothing. */
export const MIN_FIT_WIDTH = 40;

/**
 * The width tables and lines are fitted to on `stream`: the terminal's own columns, else `COLUMNS`
 * (set by hand, it fits a pipe or file too). Null (no fitting, output as wide as its content) for
 * a pipe or file without `COLUMNS`, and for a width under MIN_FIT_WIDTH.
 */
export function terminalWidth(
  stream: { isTTY?: boolean | undefined; columns?: number | undefined },
  env: Readonly<Record<string, string | undefined>>,
): number | null {
  const own = stream.isTTY === true && Number.isInteger(stream.columns) ? (stream.columns ?? 0) : 0;
  const text = (env['COLUMNS'] ?? '').trim();
  const fallback = /^\d{1,6}$/.test(text) ? Number(text) : 0;
  const width = own > 0 ? own : fallback;
  return width >= MIN_FIT_WIDTH ? width : null;
}
