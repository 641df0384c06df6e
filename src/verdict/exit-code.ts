/** Exit codes: a public contract, documented in the README. */
export const EXIT_CODES = {
  ok: 0,
  expectationNotMet: 1,
  usage: 2,
  noMsnpAnswer: 3,
  internal: 4,
  /** Standard output could not be written (a full disk, a closed descriptor); what was lost is unknown. */
  outputFailed: 5,
  /** This machine ran out of file descriptors or ports: some probes could not be made, their answers are unknown. */
  localError: 6,
  /** The reader closed the pipe (`| head`) before the run finished, and nothing failed or went silent so far. */
  pipeClosed: 141,
  /** 128 + the signal's number, as shells report a process killed by it. */
  interrupted: 130,
  terminated: 143,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** What a run did, in counts: everything the exit code depends on. */
export interface RunSummary {
  /** Targets probed to the end. */
  targets: number;
  /** Of them, those that never answered as an MSNP server. */
  silent: number;
  /** Of them, those that failed `--expect` or `--baseline`. */
  failedChecks: number;
  /** Whether `--expect` or `--baseline` was asked for: a check that probed nothing must not pass. */
  checked: boolean;
  /** The signal that stopped the run early, if any. */
  interrupted?: 'SIGINT' | 'SIGTERM' | null;
  /** Probes this machine could not make (out of file descriptors or ports): not the server's doing. */
  localErrors?: number;
  /** The errno code of the first failed write to standard output, if any; `EPIPE` when the reader left. */
  writeError?: string | null;
}

/**
 * The exit code of a run. Lost output comes first (the result a script reads is incomplete), then a
 * signal, then probes this machine could not make (their answers are unknown), then a pipe closed
 * by its reader: that run was cut short, so it keeps a failure or a silent target already seen but
 * never claims success. A run that finished reports a failed check
 * before a silent target, and a check over no target at all as failed.
 */
export function exitCode(summary: RunSummary): ExitCode {
  if (summary.writeError && summary.writeError !== 'EPIPE') return EXIT_CODES.outputFailed;
  if (summary.interrupted === 'SIGINT') return EXIT_CODES.interrupted;
  if (summary.interrupted === 'SIGTERM') return EXIT_CODES.terminated;
  // Incomplete results: neither a met expectation nor a verdict on the server.
  if ((summary.localErrors ?? 0) > 0) return EXIT_CODES.localError;
  if (summary.failedChecks > 0) return EXIT_CODES.expectationNotMet;
  if (summary.silent > 0) return EXIT_CODES.noMsnpAnswer;
  if (summary.writeError === 'EPIPE') return EXIT_CODES.pipeClosed;
  if (summary.targets === 0 && summary.checked) return EXIT_CODES.expectationNotMet;
  return EXIT_CODES.ok;
}
