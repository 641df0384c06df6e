import type { Target } from '../input/target.js';
import { msnpError } from '../core/errors.js';
import { baselineKey, parseBaseline } from '../verdict/baseline.js';
import type { TargetDocument } from './render/json.js';

/** One shard's output: a `--json` document or `--ndjson` lines, and the name to report it by. */
export interface MergeInput {
  name: string;
  text: string;
}

export interface MergeResult {
  /** One report per host and port, in target order. */
  targets: TargetDocument[];
  /** Targets of the given order list that no file has a result for (a shard that never ran or was killed). */
  missing: Target[];
  /** Results dropped because an earlier file already had one for their host and port. */
  duplicates: { host: string; port: number; file: string; kept: string }[];
  /** NDJSON last lines cut off (a killed shard), skipped. */
  cut: { file: string; line: number }[];
  /** Results for targets not on the order list: placed after it, sorted. */
  unlisted: number;
}

/** Target order without a list: host (case-insensitive, by code point), then port. */
export function compareTargets(a: Target, b: Target): number {
  const x = a.host.toLowerCase();
  const y = b.host.toLowerCase();
  return x < y ? -1 : x > y ? 1 : a.port - b.port;
}

/** What parseBaseline says of a file without targets: for a shard that is a result (an empty shard). */
const NO_TARGETS = 'it has no targets to compare with';

/** What the table and the summary read beyond what parseBaseline checks. */
function isReport(value: TargetDocument): boolean {
  const v = value as unknown as Record<string, unknown>;
  return Array.isArray(v['accepted']) && v['accepted'].every(Number.isInteger) && typeof v['answered'] === 'boolean';
}

/**
 * Merges shard outputs into one list of reports. A target in several files keeps the result of the
 * first file (inputs in the order given) and the rest are listed in `duplicates`. With `order`
 * (the original target list), reports come in its order, then any others sorted by compareTargets;
 * without it, all sorted. Throws MsnpProbeError ERR_OPTION naming the file that is not a report.
 */
export function mergeReports(inputs: readonly MergeInput[], order: readonly Target[] | null = null): MergeResult {
  const found = new Map<string, { doc: TargetDocument; file: string }>();
  const duplicates: MergeResult['duplicates'] = [];
  const cut: MergeResult['cut'] = [];
  for (const { name, text } of inputs) {
    if (text.trim() === '') continue;
    let parsed: Map<string, TargetDocument>;
    try {
      parsed = parseBaseline(text, (line) => cut.push({ file: name, line })) as Map<string, TargetDocument>;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (message === NO_TARGETS) continue;
      throw msnpError('ERR_OPTION', `'${name}': ${message}`);
    }
    for (const [key, doc] of parsed) {
      if (!isReport(doc)) {
        throw msnpError('ERR_OPTION', `'${name}': not an msnp-probe report (a target without accepted/answered)`);
      }
      const earlier = found.get(key);
      if (earlier) duplicates.push({ host: doc.host, port: doc.port, file: name, kept: earlier.file });
      else found.set(key, { doc, file: name });
    }
  }
  const targets: TargetDocument[] = [];
  const missing: Target[] = [];
  // A target listed twice is placed (or missing) once, at its first line.
  const seen = new Set<string>();
  for (const t of order ?? []) {
    const key = baselineKey(t.host, t.port);
    if (seen.has(key)) continue;
    seen.add(key);
    const hit = found.get(key);
    if (hit) {
      targets.push(hit.doc);
      found.delete(key);
    } else {
      missing.push(t);
    }
  }
  const rest = [...found.values()].map((f) => f.doc).sort(compareTargets);
  return { targets: [...targets, ...rest], missing, duplicates, cut, unlisted: order ? rest.length : 0 };
}
