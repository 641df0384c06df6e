import Table from 'cli-table3';
import { createColors } from 'picocolors';
import { escapeText } from '../../core/escape.js';
import type { ProbeStatus } from '../../codec/outcome.js';
import { formatTarget } from '../../input/target.js';
import type { TargetReport } from '../../probe/probe.js';
import { fingerprintCell } from '../../probe/fingerprint/render.js';
import { paintStatus } from './colors.js';
import { clipText, displayWidth, wrapText } from '../../core/fit.js';

/** One character per status, so twenty versions fit one terminal line per target. */
export const STATUS_MARKS: Readonly<Record<ProbeStatus, string>> = {
  accepted: '+',
  rejected: '-',
  mismatch: 'M',
  error: 'E',
  closed: 'C',
  reset: 'R',
  timeout: 'T',
  refused: 'X',
  unreachable: 'U',
  unexpected: '?',
  'http-error': 'H',
  'http-invalid': '!',
};

/** The mark of a version a target was not probed on (merged shards that probed other ranges). */
export const NOT_PROBED_MARK = ' ';

/** Every symbol a version cell can show, and what it means: the legend is made from this table. */
export const MATRIX_SYMBOLS: readonly { readonly mark: string; readonly meaning: string }[] = [
  ...Object.entries(STATUS_MARKS).map(([status, mark]) => ({ mark, meaning: status })),
  { mark: NOT_PROBED_MARK, meaning: 'not probed' },
];

/** A version cell's symbol, from the table above. */
export function matrixMark(status: ProbeStatus | undefined): string {
  return status ? STATUS_MARKS[status] : NOT_PROBED_MARK;
}

/** `legend: + accepted, ... , blank not probed`: a blank mark is named, it cannot be shown. */
export const MATRIX_LEGEND = `legend: ${MATRIX_SYMBOLS.map(
  ({ mark, meaning }) => `${mark === ' ' ? 'blank' : mark} ${meaning}`,
).join(', ')}`;

/** The legend, wrapped at commas for a terminal of `width` columns (one line without a width). */
export function matrixLegend(width: number | null = null): string {
  return wrapText(MATRIX_LEGEND, width).join('\n');
}

const TARGET_WIDTH = 30;
const SUMMARY_WIDTH = 28;
const IMPLEMENTATION_WIDTH = 44;

/** Widths of a fitted matrix's columns: target, each version, summary, implementation (0: none). */
interface Layout {
  target: number;
  version: number;
  summary: number;
  implementation: number;
  /** Versions per line: fewer than all when even one column each is too wide, and rows wrap. */
  perLine: number;
}

/**
 * The widest layout that fits `width`: version columns as wide as their numbers, else two columns
 * (a mark and a space), else one; the other columns from comfortable down to small, growing back
 * with what is left. When one column per version still does not fit, the versions wrap.
 */
function fitLayout(versions: readonly number[], width: number, fingerprint: boolean): Layout {
  const natural = Math.max(3, ...versions.map((v) => String(v).length + 1));
  const n = versions.length;
  // The summary's floor counts the space that parts it from the last version column.
  const floors = [
    { target: 20, summary: 25, implementation: fingerprint ? 24 : 0 },
    { target: 16, summary: 16, implementation: fingerprint ? 16 : 0 },
    { target: 12, summary: 12, implementation: fingerprint ? 12 : 0 },
  ];
  let chosen: Layout | null = null;
  for (const floor of floors) {
    const fixed = floor.target + floor.summary + floor.implementation;
    const version = [natural, 2, 1].find((w) => fixed + n * w <= width);
    if (version !== undefined) {
      chosen = { ...floor, version, perLine: n };
      break;
    }
  }
  if (!chosen) {
    const floor = floors[floors.length - 1] as (typeof floors)[number];
    const perLine = Math.max(1, width - floor.target - floor.summary - floor.implementation);
    chosen = { ...floor, version: 1, perLine };
  }
  let left = width - chosen.target - chosen.summary - chosen.implementation - chosen.perLine * chosen.version;
  const grow = (key: 'target' | 'summary' | 'implementation', to: number): void => {
    if (key === 'implementation' && !fingerprint) return;
    const add = Math.max(0, Math.min(left, to - chosen[key]));
    chosen[key] += add;
    left -= add;
  };
  // The summary and the implementation are read; the target's middle may go, its port never does.
  grow('summary', 25);
  grow('implementation', 31);
  grow('target', 20);
  grow('summary', SUMMARY_WIDTH);
  grow('target', TARGET_WIDTH);
  grow('implementation', IMPLEMENTATION_WIDTH);
  return chosen;
}

/** `text` in a cell of `width` columns: clipped with `…` to leave one space, then padded. */
function cell(text: string, width: number): string {
  const fitted = clipText(text, width - 1);
  return fitted + ' '.repeat(Math.max(0, width - displayWidth(fitted)));
}

/**
 * A target that fits the column: a long one loses the middle of its host name, never its port,
 * so two long names on different ports stay apart.
 */
export function fitTarget(text: string, width = TARGET_WIDTH - 1): string {
  if (text.length <= width) return text;
  const colon = text.lastIndexOf(':');
  const tail = colon > 0 && /^:\d+$/.test(text.slice(colon)) ? text.slice(colon) : '';
  const room = width - tail.length - 1;
  const head = Math.ceil(room / 2);
  const end = text.length - tail.length;
  return `${text.slice(0, head)}…${text.slice(end - (room - head), end)}${tail}`;
}

/**
 * A compact matrix for many targets: one row per target, one column per version. Rows have fixed
 * widths so they can be printed one at a time, as each target finishes.
 */
export class MatrixPrinter {
  readonly #versions: readonly number[];
  readonly #color: boolean;
  /** With `--fingerprint`: one more column, the implementation. */
  readonly #fingerprint: boolean;
  /** Set when the natural matrix is wider than the terminal: the narrower one drawn instead. */
  readonly #layout: Layout | null;

  /** `width`: the terminal's columns to fit; null (a pipe, a file) draws the natural matrix. */
  constructor(versions: readonly number[], color: boolean, fingerprint = false, width: number | null = null) {
    this.#versions = versions;
    this.#color = color;
    this.#fingerprint = fingerprint;
    const natural =
      TARGET_WIDTH +
      versions.reduce((sum, v) => sum + Math.max(3, String(v).length + 1), 0) +
      SUMMARY_WIDTH +
      (fingerprint ? IMPLEMENTATION_WIDTH : 0);
    this.#layout = width !== null && natural > width ? fitLayout(versions, width, fingerprint) : null;
  }

  /** The lines of a fitted row: the target, marks (wrapping if need be), summary and implementation. */
  #fitted(layout: Layout, target: string, marks: string[], summary: string, implementation: string): string {
    const lines: string[] = [];
    for (let at = 0; at < Math.max(1, marks.length); at += layout.perLine) {
      const first = at === 0;
      const chunk = marks
        .slice(at, at + layout.perLine)
        .map((m) => m + ' '.repeat(Math.max(0, layout.version - displayWidth(m))));
      // One space parts the last version column from the summary (the summary's width counts it).
      const tail = first
        ? ` ${cell(summary, layout.summary - 1)}` +
          (layout.implementation ? cell(implementation, layout.implementation) : '')
        : '';
      const gap = ' '.repeat((layout.perLine - chunk.length) * layout.version);
      lines.push(`${cell(first ? target : '', layout.target)}${chunk.join('')}${gap}${tail}`.trimEnd());
    }
    return `${lines.join('\n')}\n`;
  }

  #row(cells: string[]): string {
    const table = new Table({
      colWidths: [
        TARGET_WIDTH,
        ...this.#versions.map((v) => Math.max(3, String(v).length + 1)),
        28,
        ...(this.#fingerprint ? [44] : []),
      ],
      chars: {
        top: '',
        'top-mid': '',
        'top-left': '',
        'top-right': '',
        bottom: '',
        'bottom-mid': '',
        'bottom-left': '',
        'bottom-right': '',
        left: '',
        'left-mid': '',
        mid: '',
        'mid-mid': '',
        right: '',
        'right-mid': '',
        middle: '',
      },
      style: { head: [], border: [], 'padding-left': 0, 'padding-right': 1 },
      wordWrap: false,
      truncate: '…',
    });
    table.push(cells);
    return table.toString();
  }

  header(): string {
    const implementation = this.#fingerprint ? ['implementation'] : [];
    const layout = this.#layout;
    if (!layout) return `${this.#row(['target', ...this.#versions.map(String), 'summary', ...implementation])}\n`;
    // Numbers wider than their columns are written downwards, one digit per line: 1 over 6 is 16.
    const digits = Math.max(...this.#versions.map((v) => String(v).length));
    const tall = digits >= layout.version ? digits : 1;
    const lines: string[] = [];
    for (let at = 0; at === 0 || at < this.#versions.length; at += layout.perLine) {
      const chunk = this.#versions.slice(at, at + layout.perLine);
      for (let d = 0; d < tall; d++) {
        const last = d === tall - 1;
        const marks = chunk.map((v) => (tall === 1 ? String(v) : (String(v).padStart(digits)[d] ?? ' ')));
        // A line of tens over versions below 10 is empty: left out.
        if (!last && marks.every((m) => m === ' ')) continue;
        lines.push(
          this.#fitted(
            { ...layout, perLine: chunk.length },
            last && at === 0 ? 'target' : '',
            marks,
            last && at === 0 ? 'summary' : '',
            last && at === 0 ? implementation.join('') : '',
          ).trimEnd(),
        );
      }
    }
    return `${lines.join('\n')}\n`;
  }

  row(report: TargetReport): string {
    const c = createColors(this.#color);
    const byVersion = new Map(report.probes.map((p) => [p.version, p.status]));
    const marks = this.#versions.map((v) => {
      const status = byVersion.get(v);
      if (!status) return matrixMark(status);
      return paintStatus(c, status, matrixMark(status));
    });
    const summary = !report.answered
      ? 'no MSNP answer'
      : `${report.accepted.length} accepted${report.preferred !== null ? `, prefers ${report.preferred}` : ''}`;
    const implementation = this.#fingerprint ? [report.fingerprint ? fingerprintCell(report.fingerprint) : '-'] : [];
    const layout = this.#layout;
    if (layout) {
      const target = fitTarget(escapeText(formatTarget(report)), layout.target - 1);
      return this.#fitted(layout, target, marks, summary, implementation.join(''));
    }
    return `${this.#row([fitTarget(escapeText(formatTarget(report))), ...marks, summary, ...implementation])}\n`;
  }
}
