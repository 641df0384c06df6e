import { readFlagFile } from './read-file.js';
import { parseTarget, formatTarget, type Target } from '../input/target.js';
import { isMsnpProbeError } from '../core/errors.js';
import { probe } from '../probe/probe.js';
import { defaultPortFor } from '../transport/registry.js';
import { reportBadge } from '../report/render/badge.js';
import { EXIT, type Io } from './io.js';
import { commonProbeOptions, UsageError, type Args } from './options.js';
import { MAX_REPORT_BYTES } from '../core/limits.js';
import { filteredLookup } from '../input/family.js';
import { systemLookup, type LookupFn } from '../transport/resolve.js';

export { MAX_REPORT_BYTES } from '../core/limits.js';

/** The fields of a report a badge reads. */
interface BadgeReport {
  host: string;
  port: number;
  accepted: number[];
  answered: boolean;
}

function asBadgeReport(value: unknown): BadgeReport | null {
  if (typeof value !== 'object' || value === null) return null;
  const r = value as Record<string, unknown>;
  const ok =
    typeof r['host'] === 'string' &&
    typeof r['port'] === 'number' &&
    typeof r['answered'] === 'boolean' &&
    Array.isArray(r['accepted']) &&
    r['accepted'].every((v) => Number.isInteger(v));
  return ok
    ? {
        host: r['host'] as string,
        port: r['port'] as number,
        accepted: r['accepted'] as number[],
        answered: r['answered'] as boolean,
      }
    : null;
}

/** Reads a `--json` document or `--ndjson` lines into the targets' reports. */
export function parseReports(text: string): BadgeReport[] | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  try {
    const doc = JSON.parse(trimmed) as unknown;
    if (typeof doc === 'object' && doc !== null && Array.isArray((doc as { targets?: unknown }).targets)) {
      const reports = (doc as { targets: unknown[] }).targets.map(asBadgeReport);
      return reports.every((r) => r !== null) ? (reports as BadgeReport[]) : null;
    }
    const one = asBadgeReport(doc);
    return one ? [one] : null;
  } catch {
    // Not one JSON value: NDJSON, one report a line.
  }
  const reports: BadgeReport[] = [];
  for (const line of trimmed.split('\n')) {
    if (line.trim() === '') continue;
    let report: BadgeReport | null;
    try {
      report = asBadgeReport(JSON.parse(line));
    } catch {
      return null;
    }
    if (!report) return null;
    reports.push(report);
  }
  return reports;
}

async function readReports(file: string): Promise<BadgeReport[]> {
  const text = await readFlagFile('from', file, MAX_REPORT_BYTES);
  const reports = parseReports(text);
  if (!reports || reports.length === 0) {
    throw new UsageError(`--from: '${file}' is not a msnp-probe --json or --ndjson report`);
  }
  return reports;
}

function targetOf(text: string, defaultPort: number): Target {
  try {
    return parseTarget(text, defaultPort);
  } catch (err) {
    throw new UsageError(`badge: target '${text}': ${isMsnpProbeError(err) ? err.message : String(err)}`);
  }
}

/**
 * `msnp-probe badge HOST[:PORT]` or `msnp-probe badge --from FILE [HOST[:PORT]]`: an SVG badge on stdout.
 * `lookup` resolves HOST (tests inject one; -4/-6 filter what it finds).
 */
export async function badge(
  args: Args,
  positional: readonly string[],
  io: Io,
  lookup: LookupFn = systemLookup,
): Promise<number> {
  if (positional.length > 1) throw new UsageError(`badge: one target at a time (got ${positional.length})`);
  const label = args['label'] === undefined ? 'MSNP' : String(args['label']);
  if (label.trim() === '') throw new UsageError('--label: needs some text');
  const plan = commonProbeOptions(args);
  const defaultPort = defaultPortFor(plan.scan.transport);
  const given = positional[0] === undefined ? null : targetOf(positional[0], defaultPort);
  let report: BadgeReport;
  if (args['from'] !== undefined) {
    // A family chosen for a probe that does not happen would be ignored without a word.
    if (plan.family !== undefined)
      throw new UsageError(`-${plan.family}: chooses whom a badge probes; --from probes nobody`);
    const file = String(args['from']);
    const reports = await readReports(file);
    if (given) {
      const found = reports.find((r) => r.host.toLowerCase() === given.host.toLowerCase() && r.port === given.port);
      if (!found) throw new UsageError(`--from: no report of ${formatTarget(given)} in '${file}'`);
      report = found;
    } else if (reports.length === 1 && reports[0]) {
      report = reports[0];
    } else {
      throw new UsageError(`--from: '${file}' holds ${reports.length} targets: name one (badge HOST:PORT --from FILE)`);
    }
  } else {
    if (!given) throw new UsageError('badge: give HOST[:PORT] to probe, or --from FILE');
    report = await probe({
      host: given.host,
      port: given.port,
      versions: plan.scan.versions,
      timeoutMs: plan.scan.timeoutMs,
      transport: plan.scan.transport,
      lookup: plan.family === undefined ? lookup : filteredLookup(plan, lookup),
    });
  }
  io.stdout.write(reportBadge(report, label));
  return report.answered ? EXIT.ok : EXIT.noMsnpAnswer;
}
