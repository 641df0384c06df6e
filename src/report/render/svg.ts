import { STATUSES } from '../../codec/outcome.js';
import { formatTarget } from '../../input/target.js';
import type { TargetReport } from '../../probe/probe.js';
import { fitTarget, STATUS_MARKS } from './matrix.js';
import { MAX_SVG_TARGETS } from '../../core/limits.js';
import { STATUS_COLORS } from './colors.js';
import { answerLabel } from './answer.js';

/**
 * Text for XML: characters XML 1.0 forbids (C0 controls but tab and newlines, lone surrogates,
 * U+FFFE/U+FFFF) and the C1 controls are dropped, then markup characters escaped. Server text
 * is latin1 bytes as characters, so any byte may reach here.
 */
export function xmlText(text: string): string {
  return text
    .replace(/[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\uFFFE\uFFFF]/g, '')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export { STATUS_COLORS } from './colors.js';

export interface SvgOptions {
  /** Columns; default: every version any report probed. */
  versions?: readonly number[];
  /** The date in the title; default now. */
  date?: Date;
  /** Default `MSNP versions`. */
  title?: string;
}

export { MAX_SVG_TARGETS } from '../../core/limits.js';

const CELL_W = 30;
const CELL_H = 22;
const PAD = 12;
const CHAR_W = 7.3;
const LABEL_CHARS = 40;
const SUMMARY_W = 200;
const FAMILY = 'font-family="DejaVu Sans Mono,Menlo,Consolas,monospace"';
const FONT = `${FAMILY} font-size="12"`;

/** The opening of a cell's rounded box at grid position (x, y), up to its fill. */
function box(x: number, y: number): string {
  return `<rect x="${x + 1}" y="${y + 1}" width="${CELL_W - 2}" height="${CELL_H - 2}" rx="3"`;
}

function summaryOf(report: TargetReport): string {
  if (!report.answered) return 'no MSNP answer';
  const preferred = report.preferred !== null ? `, prefers ${report.preferred}` : '';
  return `${report.accepted.length} accepted${preferred}`;
}

function utcStamp(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * One self-contained SVG of a run: a row per target, a column per version, a coloured cell with
 * its status mark per probe, the preferred version outlined, and a legend. Pure: no I/O.
 * Each cell carries `data-target`, `data-version` and `data-status` for scripts.
 */
export function renderMatrixSvg(reports: readonly TargetReport[], options: SvgOptions = {}): string {
  if (reports.length > MAX_SVG_TARGETS) throw new RangeError(`at most ${MAX_SVG_TARGETS} targets fit one picture`);
  const versions = [...(options.versions ?? new Set(reports.flatMap((r) => r.probes.map((p) => p.version))))].sort(
    (a, b) => a - b,
  );
  const labels = reports.map((r) => fitTarget(formatTarget(r), LABEL_CHARS));
  const labelW = Math.ceil(Math.max(6, ...labels.map((l) => l.length)) * CHAR_W) + PAD;
  const gridX = PAD + labelW;
  const titleH = 28;
  const headerY = PAD + titleH;
  const gridY = headerY + CELL_H;
  const legendCols = 4;
  const legendRows = Math.ceil((STATUSES.length + 1) / legendCols);
  const legendY = gridY + reports.length * CELL_H + PAD;
  const legendItemW = 150;
  const width = Math.max(gridX + versions.length * CELL_W + SUMMARY_W, PAD * 2 + legendCols * legendItemW);
  const height = legendY + legendRows * CELL_H + PAD;
  const title = `${options.title ?? 'MSNP versions'} — ${utcStamp(options.date ?? new Date())}`;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `role="img" aria-label="${xmlText(title)}">`,
    `<title>${xmlText(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${PAD}" y="${PAD + 16}" ${FAMILY} font-size="15" font-weight="bold" fill="#212121">` +
      `${xmlText(title)}</text>`,
    `<text x="${PAD}" y="${headerY + 15}" ${FONT} fill="#424242">target</text>`,
  );
  versions.forEach((v, i) => {
    const x = gridX + i * CELL_W + CELL_W / 2;
    out.push(`<text x="${x}" y="${headerY + 15}" ${FONT} text-anchor="middle" fill="#424242">${v}</text>`);
  });
  reports.forEach((report, row) => {
    const y = gridY + row * CELL_H;
    const target = formatTarget(report);
    const byVersion = new Map(report.probes.map((p) => [p.version, p]));
    out.push(`<g class="row" data-target="${xmlText(target)}">`);
    out.push(`<text x="${PAD}" y="${y + 15}" ${FONT} fill="#212121">${xmlText(labels[row] ?? '')}</text>`);
    versions.forEach((v, i) => {
      const x = gridX + i * CELL_W;
      const p = byVersion.get(v);
      const preferred = report.preferred === v;
      const status = p?.status;
      const tip = p
        ? `${target} MSNP${v}: ${answerLabel(p, false)}` +
          (preferred ? ' (preferred)' : '') +
          (p.reply !== null ? ` — ${p.reply.slice(0, 80)}` : '')
        : `${target} MSNP${v}: not probed`;
      const colors = status ? STATUS_COLORS[status] : { fill: '#f5f5f5', text: '#9e9e9e' };
      const stroke = preferred ? ' stroke="#000000" stroke-width="3"' : ' stroke="#ffffff" stroke-width="1"';
      out.push(
        `<g class="cell" data-target="${xmlText(target)}" data-version="${v}" data-status="${status ?? 'not-probed'}"` +
          `${preferred ? ' data-preferred="true"' : ''}>`,
        `<title>${xmlText(tip)}</title>`,
        `${box(x, y)} fill="${colors.fill}"${stroke}/>`,
        `<text x="${x + CELL_W / 2}" y="${y + 15}" ${FONT} text-anchor="middle" fill="${colors.text}">` +
          `${xmlText(status ? STATUS_MARKS[status] : '·')}</text>`,
        '</g>',
      );
    });
    const sx = gridX + versions.length * CELL_W + PAD;
    out.push(`<text x="${sx}" y="${y + 15}" ${FONT} fill="#424242">${xmlText(summaryOf(report))}</text>`, '</g>');
  });
  const legend: { mark: string; label: string; fill: string; text: string; stroke?: string }[] = STATUSES.map((s) => ({
    mark: STATUS_MARKS[s],
    label: s,
    fill: STATUS_COLORS[s].fill,
    text: STATUS_COLORS[s].text,
  }));
  legend.push({ mark: '', label: 'preferred version', fill: '#ffffff', text: '#000000', stroke: '#000000' });
  out.push('<g class="legend">');
  legend.forEach((item, i) => {
    const x = PAD + (i % legendCols) * legendItemW;
    const y = legendY + Math.floor(i / legendCols) * CELL_H;
    const stroke = item.stroke ? ` stroke="${item.stroke}" stroke-width="3"` : '';
    out.push(
      `${box(x, y)} fill="${item.fill}"${stroke}/>`,
      `<text x="${x + CELL_W / 2}" y="${y + 15}" ${FONT} text-anchor="middle" fill="${item.text}">` +
        `${xmlText(item.mark)}</text>`,
      `<text x="${x + CELL_W + 6}" y="${y + 15}" ${FONT} fill="#212121">${xmlText(item.label)}</text>`,
    );
  });
  out.push('</g>', '</svg>', '');
  return out.join('\n');
}
