/** Exit codes: a public contract, documented in the README. */
export const EXIT = {
  ok: 0,
  expectationNotMet: 1,
  usage: 2,
  noMsnpAnswer: 3,
  internal: 4,
  /** This machine ran out of file descriptors or ports: some probes could not be made. */
  localError: 5,
} as const;

export interface Io {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  /** Standard input, for `--targets -`. */
  stdin?: AsyncIterable<Buffer | string>;
  /** Resolves when the user asks a long-running command (serve) to stop. */
  stopSignal?: () => Promise<string>;
}
