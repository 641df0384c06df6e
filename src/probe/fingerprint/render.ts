import { escapeText } from '../../core/escape.js';
import { clipText, displayWidth } from '../../core/fit.js';
import type { FingerprintReport } from './probe.js';

/** The table's one line: `fingerprint: looks like Escargot (2020-04-11 or later), 12 of 12 traits`. */
export function fingerprintLine(report: FingerprintReport): string {
  return `fingerprint: ${fingerprintSummary(report)}`;
}

/** The verdict alone, short enough for a matrix cell once clipped. */
export function fingerprintSummary(report: FingerprintReport): string {
  if (report.skipped) return 'not taken (no MSNP answer)';
  return report.verdict?.text ?? 'nothing measured';
}

/**
 * One line per trait, with the raw reply escaped: for --verbose. With a terminal's `width` the
 * reply is clipped (never inside an escape) so the line fits, down to a few characters of it.
 */
export function fingerprintDetail(report: FingerprintReport, width: number | null = null): string[] {
  const out: string[] = [];
  for (const [name, t] of Object.entries(report.traits)) {
    if (!t) continue;
    const answer = t.measured ? t.answer : `${t.answer} (${t.note ?? ''})`;
    const line = `  ${name}: ${answer}${t.end && t.end !== 'done' ? ` [${t.end}]` : ''}`;
    const room = width === null ? 100 : Math.max(12, width - displayWidth(line) - 5);
    const reply = t.reply?.length
      ? `  <- ${clipText(escapeText(t.reply.join('\r\n')), room, width === null ? '...' : '…')}`
      : '';
    out.push(line + reply);
  }
  return out;
}

/** The matrix cell: the implementation, `unknown (closest: ...)`, or `-` when not taken. */
export function fingerprintCell(report: FingerprintReport): string {
  const best = report.matches[0];
  if (report.skipped || !report.verdict || !best) return '-';
  if (report.verdict.kind === 'match') {
    const ties = report.verdict.ids.length - 1;
    return `${best.label}${ties > 0 ? ` +${ties}` : ''}`;
  }
  return `unknown (closest: ${best.label})`;
}
