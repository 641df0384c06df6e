import { EXIT_CODES } from '../verdict/exit-code.js';

/** Exit codes: a public contract, documented in the README. */
export const EXIT = EXIT_CODES;

export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
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
  stderr: { write(text: string): unknown; isTTY?: boolean };
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
