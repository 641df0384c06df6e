import { isTransient, STATUSES, type Outcome } from '../codec/outcome.js';
import { msnpError } from '../core/errors.js';
import type { TargetReport } from '../probe/probe.js';
import { answerLabel, deepTransient, type DeepAnswerParts } from '../report/render/answer.js';
import { targetKey } from '../core/model.js';

/** The parts of an earlier report a comparison needs. */
export interface BaselineProbe {
  version: number;
  status: Outcome['status'];
  code?: number;
  busy?: boolean;
  bytesReceived?: number;
  /** On the combined offer: the versions it offered. */
  offered?: number[];
  /** With `--deep`, on accepted versions: the login verdict. */
  deep?: DeepAnswerParts;
}
export interface BaselineTarget {
  host: string;
  port: number;
  probes: BaselineProbe[];
  preferred: number | null;
  /** The combined offer; null when that run did not send it (`--no-offer`). */
  offer?: BaselineProbe | null;
  /** With `--fingerprint`: the verdict (which signatures matched). */
  fingerprint?: { verdict: { kind: 'match' | 'closest'; ids: string[] } | null; skipped?: string };
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
  /**
   * Why the preferred versions were not compared: a run without the combined offer, or offers of
   * different version lists (a different `--range`), whose choices say nothing about each other.
   */
  preferredNotCompared?: 'no-offer' | 'different-offer';
  /**
   * With `--fingerprint` in both runs: the implementation named before and now, when they differ
   * (signature ids joined by ` | `, or `unknown`). A change fails the run.
   */
  implementation?: { before: string; after: string };
  met: boolean;
}

export function baselineKey(host: string, port: number): string {
  return targetKey(host, port);
}

/**
 * A probe as msnp-probe writes it: a known status, and a numeric code if any (text from a file
 * reaches the terminal).
 */
function isBaselineProbe(value: unknown): value is BaselineProbe {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as Record<string, unknown>;
  return (
    (STATUSES as readonly unknown[]).includes(p['status']) &&
    (p['code'] === undefined || typeof p['code'] === 'number') &&
    (p['busy'] === undefined || typeof p['busy'] === 'boolean') &&
    (p['bytesReceived'] === undefined || typeof p['bytesReceived'] === 'number') &&
    (p['offered'] === undefined || (Array.isArray(p['offered']) && p['offered'].every(Number.isInteger))) &&
    (p['deep'] === undefined || p['deep'] === null || isDeepParts(p['deep']))
  );
}

/** Login verdicts are words (`confirmed`, `notification`...): anything else in a file is not ours. */
const WORD = /^[a-z][a-z-]{0,31}$/;

function isDeepParts(value: unknown): value is DeepAnswerParts {
  if (typeof value !== 'object' || value === null) return false;
  const d = value as Record<string, unknown>;
  return (
    typeof d['session'] === 'string' &&
    WORD.test(d['session']) &&
    typeof d['login'] === 'string' &&
    WORD.test(d['login']) &&
    (d['code'] === undefined || typeof d['code'] === 'number')
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
    (t['offer'] === undefined || t['offer'] === null || isBaselineProbe(t['offer'])) &&
    (t['fingerprint'] === undefined || isFingerprintPart(t['fingerprint']))
  );
}

/** Signature ids are short names (`escargot@2019-08-10`): anything else in a file is not ours. */
const SIGNATURE_ID = /^[a-z0-9][a-z0-9@._-]{0,63}$/i;

function isFingerprintPart(value: unknown): value is BaselineTarget['fingerprint'] {
  if (typeof value !== 'object' || value === null) return false;
  const verdict = (value as Record<string, unknown>)['verdict'];
  if (verdict === undefined || verdict === null) return true;
  if (typeof verdict !== 'object') return false;
  const v = verdict as Record<string, unknown>;
  return (
    (v['kind'] === 'match' || v['kind'] === 'closest') &&
    Array.isArray(v['ids']) &&
    v['ids'].every((id) => typeof id === 'string' && SIGNATURE_ID.test(id))
  );
}

/** What a fingerprint named: the matching signatures, or `unknown` when none matched. */
function implementationOf(fp: BaselineTarget['fingerprint'] | undefined): string | null {
  if (!fp || fp.verdict === undefined || fp.skipped !== undefined) return null;
  if (fp.verdict === null || fp.verdict.kind !== 'match') return 'unknown';
  return [...fp.verdict.ids].sort().join(' | ');
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
    targets =
      typeof whole === 'object' && whole !== null && Array.isArray((whole as { targets?: unknown }).targets)
        ? (whole as { targets: unknown[] }).targets
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
    if (!isBaselineTarget(t))
      throw msnpError('ERR_OPTION', 'not an msnp-probe report (expected targets with host, port and probes)');
    map.set(baselineKey(t.host, t.port), t);
  }
  // An empty baseline would pass every target: almost always a truncated or wrong file.
  if (map.size === 0) throw msnpError('ERR_OPTION', 'it has no targets to compare with');
  return map;
}

function label(p: BaselineProbe | undefined, withDeep: boolean): string {
  if (!p) return 'not probed';
  return answerLabel({ status: p.status, code: p.code, deep: p.deep ?? undefined }, withDeep);
}

function transient(p: BaselineProbe | undefined, withDeep = false): boolean {
  if (!p) return false;
  if (withDeep && deepTransient(p.deep ?? undefined)) return true;
  return isTransient({ status: p.status, busy: p.busy ?? false } as Outcome, p.bytesReceived ?? 0);
}

const hasDeep = (probes: readonly { deep?: unknown }[]): boolean =>
  probes.some((p) => p.deep !== undefined && p.deep !== null);

function sameVersions(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  if (!a || !b) return false;
  const x = [...new Set(a)].sort((m, n) => m - n);
  const y = [...new Set(b)].sort((m, n) => m - n);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Compares a fresh report with its baseline entry, version by version. */
export function compareBaseline(report: TargetReport, baseline: BaselineTarget | undefined): BaselineComparison {
  if (!baseline) return { inBaseline: false, differences: [], inconclusive: [], preferred: null, met: true };
  const before = new Map(baseline.probes.map((p) => [p.version, p]));
  const differences: VersionChange[] = [];
  const inconclusive: VersionChange[] = [];
  // The login outcome is compared when both runs went past VER (`--deep`): else a login regression
  // behind an unchanged `accepted` passes.
  const withDeep = hasDeep(baseline.probes) && hasDeep(report.probes);
  for (const now of report.probes) {
    const then = before.get(now.version);
    if (!then) continue; // newly probed versions have nothing to compare with
    const nowParts: BaselineProbe = { ...now, ...(now.deep ? { deep: now.deep } : {}) };
    const change = { version: now.version, before: label(then, withDeep), after: label(nowParts, withDeep) };
    if (change.before === change.after) continue;
    (transient(then, withDeep) || transient(nowParts, withDeep) ? inconclusive : differences).push(change);
  }
  // Preferred versions are compared only when both runs offered the same versions: the choice from
  // MSNP8-9 says nothing about the choice from MSNP2-21.
  const bothOffered = report.offer !== null && baseline.offer !== null && baseline.offer !== undefined;
  const sameOffer = bothOffered && sameVersions(report.offer?.offered, baseline.offer?.offered);
  const preferred =
    sameOffer && baseline.preferred !== undefined && baseline.preferred !== report.preferred
      ? { before: baseline.preferred, after: report.preferred }
      : null;
  const offerTransient =
    (report.offer !== null && isTransient(report.offer, report.offer.bytesReceived)) ||
    transient(baseline.offer ?? undefined);
  const preferredFails = preferred !== null && !offerTransient;
  // Only when both runs fingerprinted a target that answered: a skipped fingerprint names nothing.
  const implBefore = implementationOf(baseline.fingerprint);
  const implAfter = implementationOf(report.fingerprint);
  const changed = implBefore !== null && implAfter !== null && implBefore !== implAfter;
  const implementation = changed ? { before: implBefore, after: implAfter } : null;
  const met = differences.length === 0 && !preferredFails && implementation === null;
  const comparison: BaselineComparison = { inBaseline: true, differences, inconclusive, preferred, met };
  if (implementation) comparison.implementation = implementation;
  if (!bothOffered) comparison.preferredNotCompared = 'no-offer';
  else if (!sameOffer) comparison.preferredNotCompared = 'different-offer';
  return comparison;
}
