import Table from 'cli-table3';
import { createColors } from 'picocolors';
import { escapeText } from '../../core/escape.js';
import { formatVersions } from '../../input/range.js';
import { formatTarget } from '../../input/target.js';
import type { Repeats, TargetReport } from '../../probe/probe.js';
import type { DeepResult } from '../../codec/deep.js';
import type { ExchangeOutcome } from '../../probe/version-probe.js';
import { fingerprintLine } from '../../probe/fingerprint/render.js';
import { paintStatus } from './colors.js';
import { errorLabel } from './answer.js';
import { clipText, displayWidth, wrapText } from '../../core/fit.js';
import type { ProbeStatus } from '../../codec/outcome.js';

export interface TextOptions {
  color: boolean;
  /** Widest reply shown in the table (escaped characters); the JSON keeps it whole. */
  replyWidth?: number;
  /** The terminal's width to fit (the reply column shrinks first); null or absent: as wide as the content. */
  width?: number | null;
}

/** A short human reading of an outcome: `error 600 (server is busy)`, `timeout (reply)`. */
export function describeStatus(o: ExchangeOutcome): string {
  switch (o.status) {
    case 'accepted':
    case 'refused':
      return o.status;
    case 'rejected':
      return o.form === 'cvr0-only'
        ? 'rejected (CVR0 only)'
        : o.serverVersions.length
          ? `rejected (lists ${o.serverVersions.length})`
          : 'rejected';
    case 'mismatch':
      return `mismatch (other ${o.reason === 'trid' ? 'trId' : o.reason === 'version' ? 'version' : 'command'})`;
    case 'error':
      return `${errorLabel(o.code)}${o.codeName ? ` (${o.codeName})` : ''}`;
    case 'closed': {
      if (o.out !== null) return `closed (OUT${o.out ? ` ${escapeText(o.out)}` : ''})`;
      const n = o.bytesReceived ?? 0;
      return n === 0 ? 'closed (no bytes)' : `closed (after ${n} bytes)`;
    }
    case 'reset': {
      const n = o.bytesReceived ?? 0;
      return n === 0 ? 'reset' : `reset (after ${n} bytes)`;
    }
    case 'timeout':
      return `timeout (${o.phase})`;
    case 'unreachable':
      return `unreachable (${o.reason === 'dns' ? 'name' : o.reason}: ${o.errno})`;
    case 'unexpected':
      return `unexpected (${o.reason})`;
    case 'http-error':
      return `http-error (HTTP ${o.httpStatus})`;
    case 'http-invalid':
      return `http-invalid (${o.reason})`;
  }
}

const paint = paintStatus;

/** What to show in the reply column: the line, else the first bytes, always escaped, never cut inside an escape. */
function replyCell(o: ExchangeOutcome, width: number, mark: string): string {
  if (o.reply !== null) return clipText(escapeText(o.reply), width, mark);
  if (o.firstBytes) return clipText(escapeText(Buffer.from(o.firstBytes, 'hex').toString('latin1')), width, mark);
  return '';
}

/** ` [2/3 agree]` when repeated attempts disagreed, ` [1 retry]` when retries were spent. */
function repeats(p: Repeats): string {
  let text = '';
  if (p.agreement && !p.agreement.agree) {
    const same = Math.max(...Object.values(p.agreement.answers).map((n) => n ?? 0));
    text += ` [${same}/${p.agreement.attempts} agree]`;
  }
  if (p.retries) text += ` [${p.retries} ${p.retries === 1 ? 'retry' : 'retries'}]`;
  return text;
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

/** One line: `accepts MSNP8-MSNP16 (9 of 15); prefers MSNP16`. */
export function summaryLine(report: TargetReport): string {
  const total = report.probes.length;
  if (!report.answered) {
    const statuses = [...new Set(report.probes.map((p) => p.status))].join(', ');
    return `no MSNP answer from ${escapeText(formatTarget(report))} (${statuses})`;
  }
  const deep = report.probes.filter((p) => p.deep);
  const refused = deep.filter((p) => p.deep?.session === 'account-refused').length;
  // A handle the server does not know says nothing against its login: name it beside the count.
  const refusedText = refused ? `, account refused at ${refused} (try --handle with a test account)` : '';
  const confirmedCount = deep.filter((p) => p.deep?.session === 'confirmed').length;
  const confirmed = deep.length ? `; confirmed ${confirmedCount} of ${deep.length} accepted${refusedText}` : '';
  const accepts = report.accepted.length
    ? `accepts ${formatVersions(report.accepted)} (${report.accepted.length} of ${total})`
    : `accepts none of ${total} versions`;
  const prefers =
    report.preferred !== null
      ? `; prefers MSNP${report.preferred}${preferredSession(report)}`
      : report.offer
        ? `; combined offer ${report.offer.status}`
        : '';
  return accepts + prefers + confirmed;
}

/** With deep probes: ` (session: confirmed)`, what the preferred version's own connection showed. */
function preferredSession(report: TargetReport): string {
  if (!report.probes.some((p) => p.deep)) return '';
  const own = report.probes.find((p) => p.version === report.preferred);
  return ` (session: ${own?.deep?.session ?? 'not tried'})`;
}

/** With --deep: how the login went, e.g. `TWN challenge`, `XFR -> 10.0.0.5:1863 (msnp13)`, `error 911 at USR`. */
export function describeLogin(deep: DeepResult): string {
  switch (deep.login) {
    case 'notification': {
      const asked = deep.auth?.methodMismatch ? ` (asked ${escapeText(deep.auth.requested ?? '?')})` : '';
      const after = deep.payloads.length ? ` (after ${deep.payloads.map((p) => p.command).join(', ')})` : '';
      return `${escapeText(deep.auth?.method ?? '')} challenge${asked}${after}`;
    }
    case 'account-refused':
      return `account refused (${deep.code ?? '?'}) at ${deep.decidedBy}`;
    case 'not-attempted':
      return `not attempted (INF names ${escapeText(deep.auth?.method ?? '?')})`;
    case 'dispatch':
      return `XFR -> ${escapeText(deep.redirect?.address ?? '?')} (${deep.redirect?.format ?? '?'})`;
    case 'error':
      return `${errorLabel(deep.code ?? '?')} at ${deep.decidedBy}`;
    default:
      return `${deep.login} at ${deep.decidedBy}`;
  }
}

/**
 * Columns a cell may shrink to, and in which order they shrink: the reply first. A second pass
 * goes lower, when a table with long logins or statuses still does not fit (a narrow terminal).
 */
const SHRINK: readonly (readonly { column: string; min: number }[])[] = [
  [
    { column: 'Reply', min: 16 },
    { column: 'Login', min: 20 },
    { column: 'Status', min: 16 },
  ],
  [
    { column: 'Reply', min: 6 },
    { column: 'Login', min: 6 },
    { column: 'Status', min: 8 },
    { column: 'Session', min: 7 },
  ],
];

/**
 * Content widths that fit `width` columns of a table drawn with borders and one space of padding
 * on each side of a cell; as they are without a width. A table that cannot fit keeps its minimums.
 */
function fitColumns(head: readonly string[], rows: readonly string[][], width: number | null): number[] {
  const widths = head.map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] ?? ''))));
  if (width === null) return widths;
  let excess = widths.reduce((sum, w) => sum + w + 3, 1) - width;
  for (const pass of SHRINK) {
    for (const { column, min } of pass) {
      const i = head.indexOf(column);
      const w = widths[i];
      if (excess <= 0 || w === undefined) continue;
      const cut = Math.min(excess, Math.max(0, w - min));
      widths[i] = w - cut;
      excess -= cut;
    }
  }
  return widths;
}

/** The human report for one target: a heading, the table, the summary. */
export function renderTarget(report: TargetReport, options: TextOptions): string {
  const c = createColors(options.color);
  const fit = options.width ?? null;
  // Unfitted output keeps its historical `...`; fitted output marks every cut with one `…`.
  const mark = fit === null ? '...' : '…';
  const width = options.replyWidth ?? 48;
  const where = report.address && report.address !== report.host ? ` (${report.address})` : '';
  const via = report.via ? ` <- redirected by ${escapeText(formatTarget(report.via))}` : '';
  const over = report.transport === 'http' ? ' over the HTTP gateway' : '';
  const heading = wrapText(`${escapeText(formatTarget(report))}${where}${over}${via}`, fit).map((l) => c.bold(l));
  const deep = report.probes.some((p) => p.deep !== undefined) || report.redirects !== undefined;
  const head = deep
    ? ['Version', 'Status', 'Session', 'Login', 'Reply', 'Time']
    : ['Version', 'Status', 'Reply', 'Time'];
  const table = new Table({
    head,
    style: { head: options.color ? ['cyan'] : [], border: options.color ? ['grey'] : [] },
    colAligns: deep ? ['left', 'left', 'left', 'left', 'left', 'right'] : ['left', 'left', 'left', 'right'],
    // No rule between rows: twenty versions should fit one screen.
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  /** Plain cells first (so widths can be measured and text clipped), painted once fitted. */
  const rows: { cells: string[]; status: ProbeStatus; session: string | undefined }[] = [];
  const row = (label: string, status: string, deepCells: [string, string], reply: string, time: string): string[] =>
    deep ? [label, status, ...deepCells, reply, time] : [label, status, reply, time];
  const replyWidth = deep ? 32 : width;
  for (const p of report.probes) {
    const session = p.deep?.session;
    const login = p.deep ? describeLogin(p.deep) : '';
    rows.push({
      cells: row(
        `MSNP${p.version}`,
        describeStatus(p) + repeats(p),
        [session ?? '', login],
        replyCell(p, replyWidth, mark),
        formatMs(p.elapsedMs),
      ),
      status: p.status,
      session,
    });
  }
  if (report.offer) {
    const o = report.offer;
    const status = (o.status === 'accepted' ? `prefers MSNP${o.version}` : describeStatus(o)) + repeats(o);
    rows.push({
      cells: row('offer', status, ['', ''], replyCell(o, replyWidth, mark), formatMs(o.elapsedMs)),
      status: o.status,
      session: undefined,
    });
  }
  const widths = fitColumns(
    head,
    rows.map((r) => r.cells),
    fit,
  );
  const statusAt = head.indexOf('Status');
  const sessionAt = head.indexOf('Session');
  for (const r of rows) {
    const cells = r.cells.map((cell, i) => clipText(cell, widths[i] ?? cell.length, mark));
    cells[statusAt] = paint(c, r.status, cells[statusAt] ?? '');
    if (sessionAt >= 0 && r.session !== undefined) {
      const text = cells[sessionAt] ?? '';
      cells[sessionAt] = r.session === 'confirmed' ? c.green(text) : c.yellow(text);
    }
    table.push(cells);
  }
  const lines = [...heading, table.toString(), ...wrapText(summaryLine(report), fit)];
  if (report.fingerprint) lines.push(...wrapText(fingerprintLine(report.fingerprint), fit));
  for (const r of report.redirects ?? []) {
    const why = r.followed ? 'followed' : `not followed: ${r.reason ?? 'not-following'}`;
    const line = `redirects ${formatVersions(r.versions)} to ${escapeText(r.to)} (${r.formats.join(', ')}; ${why})`;
    lines.push(...wrapText(line, fit));
  }
  return `${lines.join('\n')}\n`;
}
