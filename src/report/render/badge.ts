import type { TargetReport } from '../../probe/probe.js';
import { xmlText } from './svg.js';
import { MAX_BADGE_TEXT } from '../../core/limits.js';
import { consecutiveRuns } from '../../input/range.js';

/** `[2,3,4,8,9,21]` -> `2-4, 8-9, 21`: short enough for a badge. */
export function compactVersions(versions: readonly number[]): string {
  return consecutiveRuns(versions)
    .map(([from, to]) => (from === to ? `${from}` : `${from}-${to}`))
    .join(', ');
}

export const BADGE_COLORS = { accepted: '#4c1', none: '#fe7d37', silent: '#e05d44', label: '#555' } as const;

/** What a badge says about a report: the accepted versions, `none`, or `no answer`. */
export function badgeMessage(report: Pick<TargetReport, 'accepted' | 'answered'>): { text: string; color: string } {
  if (!report.answered) return { text: 'no answer', color: BADGE_COLORS.silent };
  if (report.accepted.length === 0) return { text: 'none', color: BADGE_COLORS.none };
  return { text: compactVersions(report.accepted), color: BADGE_COLORS.accepted };
}

/** Approximate advance of Verdana 11px, as shields.io lays badges out; narrow and wide glyphs differ. */
function textWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += /[ il.,:;!'|]/.test(ch) ? 3.5 : /[mwMW]/.test(ch) ? 10 : /[A-Z0-9]/.test(ch) ? 7.5 : 6.5;
  return Math.ceil(w);
}

export { MAX_BADGE_TEXT } from '../../core/limits.js';

function clip(text: string): string {
  return text.length <= MAX_BADGE_TEXT ? text : `${text.slice(0, MAX_BADGE_TEXT - 1)}…`;
}

/** A shields.io-style flat badge: grey label on the left, a coloured message on the right. Pure. */
export function renderBadge(label: string, message: string, color: string): string {
  if (!/^#[0-9a-fA-F]{3,8}$/.test(color)) throw new RangeError('the badge colour must be #RGB or #RRGGBB');
  const left = clip(label);
  const right = clip(message);
  const lw = textWidth(left) + 10;
  const rw = textWidth(right) + 10;
  const w = lw + rw;
  const l = xmlText(left);
  const r = xmlText(right);
  const font = 'font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11"';
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="20" role="img" aria-label="${l}: ${r}">`,
    `<title>${l}: ${r}</title>`,
    '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>' +
      '<stop offset="1" stop-opacity=".1"/></linearGradient>',
    `<clipPath id="r"><rect width="${w}" height="20" rx="3" fill="#fff"/></clipPath>`,
    '<g clip-path="url(#r)">',
    `<rect width="${lw}" height="20" fill="${BADGE_COLORS.label}"/>`,
    `<rect x="${lw}" width="${rw}" height="20" fill="${color}"/>`,
    `<rect width="${w}" height="20" fill="url(#s)"/>`,
    '</g>',
    `<g fill="#fff" text-anchor="middle" ${font}>`,
    `<text x="${lw / 2}" y="15" fill="#010101" fill-opacity=".3">${l}</text>`,
    `<text x="${lw / 2}" y="14" class="label">${l}</text>`,
    `<text x="${lw + rw / 2}" y="15" fill="#010101" fill-opacity=".3">${r}</text>`,
    `<text x="${lw + rw / 2}" y="14" class="message">${r}</text>`,
    '</g>',
    '</svg>',
    '',
  ].join('\n');
}

/** The badge of one report: `MSNP | 2-21`. */
export function reportBadge(report: Pick<TargetReport, 'accepted' | 'answered'>, label = 'MSNP'): string {
  const { text, color } = badgeMessage(report);
  return renderBadge(label, text, color);
}
