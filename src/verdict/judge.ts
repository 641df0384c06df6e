import type { TargetReport } from '../probe/probe.js';
import { compareBaseline, baselineKey, type BaselineTarget } from './baseline.js';
import { compareExpected } from './expect.js';
import type { TargetDocument } from '../report/render/json.js';
import type { RunSummary } from './exit-code.js';

/** The checks a run asked for: `--expect` and `--baseline`. */
export interface Checks {
  /** The accepted set every target must have exactly, or null for no expectation. */
  expect: readonly number[] | null;
  /** An earlier run's targets by `baselineKey(host, port)`, or null for no baseline. */
  baseline: ReadonlyMap<string, BaselineTarget> | null;
}

/** One target's verdict: its document (the report plus what the checks found) and what counts toward exit. */
export interface Judgement {
  doc: TargetDocument;
  /** Whether `--expect` or `--baseline` failed for this target. */
  failed: boolean;
  /** Never answered as MSNP, and not because this machine could not make the probes. */
  silent: boolean;
  /** Errno codes of the probes this machine could not make (out of descriptors or ports), one per probe. */
  localErrnos: string[];
}

/**
 * The verdict on one finished target: the expectation, the baseline comparison, and whether it
 * stayed silent. Pure: the CLI and library callers get the same answer from the same report.
 */
export function judge(report: TargetReport, checks: Checks): Judgement {
  const doc: TargetDocument = { ...report };
  if (checks.expect) doc.expectation = compareExpected(checks.expect, report.accepted);
  if (checks.baseline) {
    doc.baseline = compareBaseline(report, checks.baseline.get(baselineKey(report.host, report.port)));
  }
  const localErrnos: string[] = [];
  for (const p of [...report.probes, ...(report.offer ? [report.offer] : [])]) {
    if (p.status === 'unreachable' && p.reason === 'local') localErrnos.push(p.errno);
  }
  const failed =
    (doc.expectation !== undefined && !doc.expectation.met) || (doc.baseline !== undefined && !doc.baseline.met);
  return { doc, failed, silent: !report.answered && localErrnos.length === 0, localErrnos };
}

/** Adds judgements up into the counts `exitCode()` reads. */
export class Tally {
  targets = 0;
  silent = 0;
  failedChecks = 0;
  /** Connections made for the targets' versions and combined offers. */
  probes = 0;
  /** Targets that answered as MSNP. */
  answered = 0;
  /** Probes this machine could not make, by errno. */
  readonly local = new Map<string, number>();

  add(j: Judgement): void {
    this.targets++;
    this.probes += j.doc.probes.length + (j.doc.offer ? 1 : 0);
    if (j.doc.answered) this.answered++;
    if (j.silent) this.silent++;
    if (j.failed) this.failedChecks++;
    for (const errno of j.localErrnos) this.local.set(errno, (this.local.get(errno) ?? 0) + 1);
  }

  get localErrors(): number {
    return [...this.local.values()].reduce((a, b) => a + b, 0);
  }

  summary(checks: Checks, rest: Pick<RunSummary, 'interrupted' | 'writeError'>): RunSummary {
    return {
      targets: this.targets,
      silent: this.silent,
      failedChecks: this.failedChecks,
      checked: checks.expect !== null || checks.baseline !== null,
      localErrors: this.localErrors,
      ...rest,
    };
  }
}
