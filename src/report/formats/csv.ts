import { escapeText } from '../../core/escape.js';
import { formatTarget } from '../../input/target.js';
import type { VersionProbe } from '../../probe/probe.js';
import type { TargetDocument } from '../render/json.js';
import type { ReporterFactory } from './reporter.js';

/** The columns, in order: documented in the README; add at the end only, never rename or reorder. */
export const CSV_COLUMNS = [
  'host',
  'port',
  'address',
  'transport',
  'version',
  'status',
  'code',
  'reply',
  'elapsed_ms',
  'bytes_received',
  'preferred',
  'answered',
  'via',
] as const;

/**
 * One CSV field (RFC 4180). A text that a spreadsheet would run as a formula (it starts with
 * = + - @, a tab or a CR) gets a leading apostrophe: a hostile server's reply must stay data.
 */
export function csvField(value: string | number | boolean | null): string {
  if (value === null) return '';
  if (typeof value !== 'string') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

function row(cells: (string | number | boolean | null)[]): string {
  return `${cells.map(csvField).join(',')}\r\n`;
}

function probeRow(doc: TargetDocument, p: VersionProbe): string {
  return row([
    escapeText(doc.host),
    doc.port,
    doc.address,
    doc.transport,
    p.version,
    p.status,
    p.status === 'error' ? p.code : null,
    // Escaped as in the table: the CSV may be shown on a terminal, and a cell holds no raw bytes.
    p.reply === null ? null : escapeText(p.reply),
    p.elapsedMs,
    p.bytesReceived,
    doc.preferred,
    doc.answered,
    doc.via ? escapeText(formatTarget(doc.via)) : null,
  ]);
}

/** `csv`: a header, then one row per target and version, as each target finishes. */
export const csvReporter: ReporterFactory = (context) => {
  let headed = false;
  const header = (): string => {
    if (headed) return '';
    headed = true;
    return row([...CSV_COLUMNS]);
  };
  return {
    add: (doc) => context.write(header() + doc.probes.map((p) => probeRow(doc, p)).join('')),
    // A run over no target still gets the header; a list with no usable line gets nothing.
    end: (run) => (run.unusable ? Promise.resolve() : context.write(header())),
  };
};
