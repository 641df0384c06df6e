import Table from 'cli-table3';
import { createColors } from 'picocolors';
import { escapeText } from '../../core/escape.js';
import type { ProbeStatus } from '../../codec/outcome.js';
import { formatTarget } from '../../input/target.js';
import type { TargetReport } from '../../probe/probe.js';
import { fingerprintCell } from '../../probe/fingerprint/render.js';
import { paintStatus } from './colors.js';

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

export const MATRIX_LEGEND = `legend: ${Object.entries(STATUS_MARKS)
  .map(([status, mark]) => `${mark} ${status}`)
  .join(', ')}`;

const TARGET_WIDTH = 30;

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
  return `${text.slice(0, head)}…${text.slice(text.length - tail.length - (room - head), text.length - tail.length)}${tail}`;
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

  constructor(versions: readonly number[], color: boolean, fingerprint = false) {
    this.#versions = versions;
    this.#color = color;
    this.#fingerprint = fingerprint;
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
    return `${this.#row(['target', ...this.#versions.map(String), 'summary', ...implementation])}\n`;
  }

  row(report: TargetReport): string {
    const c = createColors(this.#color);
    const byVersion = new Map(report.probes.map((p) => [p.version, p.status]));
    const marks = this.#versions.map((v) => {
      const status = byVersion.get(v);
      if (!status) return ' ';
      return paintStatus(c, status, STATUS_MARKS[status]);
    });
    const summary = !report.answered
      ? 'no MSNP answer'
      : `${report.accepted.length} accepted${report.preferred !== null ? `, prefers ${report.preferred}` : ''}`;
    const implementation = this.#fingerprint ? [report.fingerprint ? fingerprintCell(report.fingerprint) : '-'] : [];
    return `${this.#row([fitTarget(escapeText(formatTarget(report))), ...marks, summary, ...implementation])}\n`;
  }
}
