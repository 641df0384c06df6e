import { isTransient, STATUSES, type Outcome } from '../codec/outcome.js';
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
  /** The combined offer; null when that run did not send it (`--no-offer`). */
  offer?: BaselineProbe | null;
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

/** A probe as msnp-probe writes it: a known status, and a numeric code if any (text from a file reaches the terminal). */
function isBaselineProbe(value: unknown): value is BaselineProbe {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as Record<string, unknown>;
  return (
    (STATUSES as readonly unknown[]).includes(p['status']) &&
    (p['code'] === undefined || typeof p['code'] === 'number') &&
    (p['busy'] === undefined || typeof p['busy'] === 'boolean') &&
    (p['bytesReceived'] === undefined || typeof p['bytesReceived'] === 'number')
  );
}

function isBaselineTarget(value: unknown): value is BaselineTarget {
  if (typeof value !== 'object' || value === null) return false;
  const t = value as Record<string, unknown>;
  return (
    typeof t['host'] === 'string' &&
    typeof t['port'] === 'number' &&
    Array.isArray(t['probes']) &&
    t['probes'].every((p: unknown) => isBaselineProbe(p) && typeof (p as BaselineProbe).version === 'number') &&
    (t['preferred'] === undefined || t['preferred'] === null || typeof t['preferred'] === 'number') &&
    (t['offer'] === undefined || t['offer'] === null || isBaselineProbe(t['offer']))
  );
}

/**
 * Reads a `--json` document or `--ndjson` lines. Throws MsnpProbeError ERR_OPTION with a one-line
 * reason. An NDJSON file whose last line is cut off (a run killed while writing into a pipe) keeps
 * its complete lines; `onCutLine` is told about the one skipped.
 */
export function parseBaseline(text: string, onCutLine?: (line: number) => void): Map<string, BaselineTarget> {
  let targets: unknown[];
  try {
    const whole = JSON.parse(text) as unknown;
    targets = typeof whole === 'object' && whole !== null && Array.isArray((whole as { targets?: unknown }).targets)
      ? ((whole as { targets: unknown[] }).targets)
      : [whole];
  } catch {
    targets = [];
    const lines = text.split('\n');
    for (const [i, line] of lines.entries()) {
      if (line.trim() === '') continue;
      try {
        targets.push(JSON.parse(line) as unknown);
      } catch {
        if (i === lines.length - 1) {
          onCutLine?.(i + 1);
          continue;
        }
        throw msnpError('ERR_OPTION', `line ${i + 1} is neither an msnp-probe JSON document nor an NDJSON line`);
      }
    }
  }
  const map = new Map<string, BaselineTarget>();
  for (const t of targets) {
    if (!isBaselineTarget(t)) throw msnpError('ERR_OPTION', 'not an msnp-probe report (expected targets with host, port and probes)');
    map.set(baselineKey(t.host, t.port), t);
  }
  // An empty baseline would pass every target: almost always a truncated or wrong file.
  if (map.size === 0) throw msnpError('ERR_OPTION', 'it has no targets to compare with');
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
  // The preferred version is compared only when both runs sent the combined offer.
  const bothOffered = report.offer !== null && baseline.offer !== null;
  const preferred =
    bothOffered && baseline.preferred !== undefined && baseline.preferred !== report.preferred
      ? { before: baseline.preferred, after: report.preferred }
      : null;
  const offerTransient = (report.offer !== null && isTransient(report.offer, report.offer.bytesReceived)) || transient(baseline.offer ?? undefined);
  const preferredFails = preferred !== null && !offerTransient;
  return { inBaseline: true, differences, inconclusive, preferred, met: differences.length === 0 && !preferredFails };
}
