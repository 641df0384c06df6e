import { isTransient, type Outcome } from '../codec/outcome.js';
import { msnpError } from '../errors.js';
import type { TargetReport } from '../probe/probe.js';

/** The parts of an earlier report a comparison needs. */
export interface BaselineProbe {
  version: number;
  status: Outcome['status'];
  code?: number;
  busy?: boolean;
  bytesReceived?: number;
}
export interface BaselineTarget {
  host: string;
  port: number;
  probes: BaselineProbe[];
  preferred: number | null;
}

export interface VersionChange {
  version: number;
  /** `accepted`, `rejected`, `error 600`... or `not probed`. */
  before: string;
  after: string;
}

export interface BaselineComparison {
  /** False when the baseline has no entry for this host and port. */
  inBaseline: boolean;
  /** Changes between two conclusive outcomes: these fail the run. */
  differences: VersionChange[];
  /** Changes where either side was transient (timeout, reset, closed without bytes, busy): reported, not failed. */
  inconclusive: VersionChange[];
  preferred: { before: number | null; after: number | null } | null;
  met: boolean;
}

export function baselineKey(host: string, port: number): string {
  return `${host.toLowerCase()}|${port}`;
}

function isBaselineTarget(value: unknown): value is BaselineTarget {
  if (typeof value !== 'object' || value === null) return false;
  const t = value as Record<string, unknown>;
  return (
    typeof t['host'] === 'string' &&
    typeof t['port'] === 'number' &&
    Array.isArray(t['probes']) &&
    t['probes'].every((p: unknown) => typeof p === 'object' && p !== null && typeof (p as BaselineProbe).version === 'number' && typeof (p as BaselineProbe).status === 'string')
  );
}

/** Reads a `--json` document or `--ndjson` lines. Throws MsnpProbeError ERR_OPTION with a one-line reason. */
export function parseBaseline(text: string): Map<string, BaselineTarget> {
  let targets: unknown[];
  try {
    const whole = JSON.parse(text) as unknown;
    targets = typeof whole === 'object' && whole !== null && Array.isArray((whole as { targets?: unknown }).targets)
      ? ((whole as { targets: unknown[] }).targets)
      : [whole];
  } catch {
    targets = [];
    let n = 0;
    for (const line of text.split('\n')) {
      n++;
      if (line.trim() === '') continue;
      try {
        targets.push(JSON.parse(line) as unknown);
      } catch {
        throw msnpError('ERR_OPTION', `line ${n} is neither an msnp-probe JSON document nor an NDJSON line`);
      }
    }
  }
  const map = new Map<string, BaselineTarget>();
  for (const t of targets) {
    if (!isBaselineTarget(t)) throw msnpError('ERR_OPTION', 'not an msnp-probe report (expected targets with host, port and probes)');
    map.set(baselineKey(t.host, t.port), t);
  }
  return map;
}

function label(p: BaselineProbe | undefined): string {
  if (!p) return 'not probed';
  return p.status === 'error' && p.code !== undefined ? `error ${p.code}` : p.status;
}

function transient(p: BaselineProbe | undefined): boolean {
  if (!p) return false;
  return isTransient({ status: p.status, busy: p.busy ?? false } as Outcome, p.bytesReceived ?? 0);
}

/** Compares a fresh report with its baseline entry, version by version. */
export function compareBaseline(report: TargetReport, baseline: BaselineTarget | undefined): BaselineComparison {
  if (!baseline) return { inBaseline: false, differences: [], inconclusive: [], preferred: null, met: true };
  const before = new Map(baseline.probes.map((p) => [p.version, p]));
  const differences: VersionChange[] = [];
  const inconclusive: VersionChange[] = [];
  for (const now of report.probes) {
    const then = before.get(now.version);
    if (!then) continue; // newly probed versions have nothing to compare with
    const change = { version: now.version, before: label(then), after: label(now) };
    if (change.before === change.after) continue;
    (transient(then) || transient(now) ? inconclusive : differences).push(change);
  }
  const preferred =
    baseline.preferred !== undefined && baseline.preferred !== report.preferred && report.offer !== null
      ? { before: baseline.preferred, after: report.preferred }
      : null;
  const offerTransient = report.offer !== null && isTransient(report.offer, report.offer.bytesReceived);
  const preferredFails = preferred !== null && !offerTransient;
  return { inBaseline: true, differences, inconclusive, preferred, met: differences.length === 0 && !preferredFails };
}
