import { escapeText } from '../../core/escape.js';
import { formatVersions } from '../../input/range.js';
import { formatTarget } from '../../input/target.js';
import type { TargetReport, TranscriptEntry } from '../../core/model.js';
import type { BaselineComparison } from '../../verdict/baseline.js';
import type { Expectation } from '../../verdict/expect.js';

/** Plain-text lines shared by every output mode (stdout under a table, stderr beside JSON). */

export function expectationLines(e: Expectation): string[] {
  if (e.met) return [`expectation met: ${formatVersions(e.expected) || 'none'}`];
  const lines = [`expectation NOT met: expected ${formatVersions(e.expected) || 'none'}`];
  if (e.missing.length) lines.push(`  missing (expected, not accepted): ${formatVersions(e.missing)}`);
  if (e.unexpected.length) lines.push(`  unexpected (accepted, not expected): ${formatVersions(e.unexpected)}`);
  return lines;
}

export function baselineLines(b: BaselineComparison): string[] {
  if (!b.inBaseline) return ['baseline: this target is not in the baseline (nothing to compare)'];
  const lines: string[] = [];
  for (const d of b.differences) lines.push(`baseline DIFFERENCE MSNP${d.version}: ${d.before} -> ${d.after}`);
  if (b.preferred)
    lines.push(
      `baseline ${b.met ? 'inconclusive' : 'DIFFERENCE'} preferred: ` +
        `${b.preferred.before ?? 'none'} -> ${b.preferred.after ?? 'none'}`,
    );
  for (const d of b.inconclusive)
    lines.push(`baseline inconclusive MSNP${d.version}: ${d.before} -> ${d.after} (transient)`);
  const impl = b.implementation;
  if (impl) lines.push(`baseline DIFFERENCE implementation: ${escapeText(impl.before)} -> ${escapeText(impl.after)}`);
  if (b.preferredNotCompared === 'different-offer') {
    lines.push('baseline: preferred version not compared (the offers named different versions: another --range?)');
  }
  return lines;
}

/** Every transcript of a report, escaped, one line per read or write. */
export function transcriptText(report: TargetReport): string {
  const lines: string[] = [];
  const target = escapeText(formatTarget(report));
  const add = (label: string, entries: TranscriptEntry[] | undefined): void => {
    for (const e of entries ?? []) {
      const at = `${target} ${label} +${e.t.toFixed(1)}ms`;
      if (e.dir === 'close') lines.push(`${at} x closed by ${e.by ?? 'unknown'}`);
      else lines.push(`${at} ${e.dir === 'send' ? '>' : '<'} ${escapeText(e.data)}`);
    }
  };
  for (const p of report.probes) add(`MSNP${p.version}`, p.transcript);
  if (report.offer) add('offer', report.offer.transcript);
  return lines.length ? `${lines.join('\n')}\n` : '';
}
