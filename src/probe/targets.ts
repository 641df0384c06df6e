import { isIP } from 'node:net';
import { parsePort, parseTarget, DEFAULT_PORT, type Target } from '../codec/target.js';
import { isMsnpProbeError, msnpError } from '../errors.js';

/** Longest line read from a target list; a longer one is skipped as invalid without being buffered. */
export const MAX_TARGET_LINE = 1024;

export interface InvalidLine {
  line: number;
  text: string;
  message: string;
}

/**
 * One line of a target list to a target, or null for a blank or comment line. Understands
 * `HOST`, `HOST:PORT`, `[v6]:PORT`, `msnp://host:port`, `HOST PORT`, and masscan's list format
 * (`open tcp PORT IP TIMESTAMP`). Throws MsnpProbeError ERR_TARGET on anything else.
 */
export function parseTargetLine(raw: string, defaultPort = DEFAULT_PORT): Target | null {
  // Everything from `#` on is a comment, up to and including a CRLF list's `\r`.
  const hash = raw.indexOf('#');
  const text = (hash === -1 ? raw : raw.slice(0, hash)).trim();
  if (text === '') return null;
  const tokens = text.split(/\s+/);
  if (tokens.length === 1) return parseTarget(text, defaultPort);
  const masscan = /^open\s+tcp\s+(\d+)\s+(\S+)(\s+\d+)?$/.exec(text);
  if (masscan?.[1] && masscan[2]) return { host: parseTarget(masscan[2]).host, port: parsePort(masscan[1]) };
  if (tokens.length === 2 && /^\d+$/.test(tokens[1] ?? '')) {
    const host = tokens[0] ?? '';
    if (isIP(host) === 6) return { host, port: parsePort(tokens[1] ?? '') };
    return { host: parseTarget(host).host, port: parsePort(tokens[1] ?? '') };
  }
  throw msnpError('ERR_TARGET', `'${text.slice(0, 80)}' is not HOST[:PORT]`);
}

/** A UTF-8 byte order mark as read through latin1, or as a decoded string. */
const BOM = /^(\xef\xbb\xbf|\ufeff)/;

/** What an invalid line's message may quote of it. */
const QUOTED = 80;

/**
 * Streams targets from a byte stream (a file or stdin), one per line, never holding more than one
 * line: a list of a million lines costs no more memory than a list of ten. LF or CRLF line ends,
 * an optional UTF-8 byte order mark. A line longer than MAX_TARGET_LINE is invalid wherever the
 * read chunks happen to split it, unless it is a comment.
 */
export async function* readTargets(
  input: AsyncIterable<Buffer | string>,
  options: { defaultPort?: number; onInvalid?: (invalid: InvalidLine) => void } = {},
): AsyncGenerator<Target> {
  let pending = '';
  /** Inside an over-long line: drop bytes until its newline. */
  let skipping = false;
  let lineNo = 0;
  const invalid = (text: string, message: string): void => {
    options.onInvalid?.({ line: lineNo, text: text.slice(0, QUOTED), message: message.length > 200 ? `${message.slice(0, 200)}...` : message });
  };
  /** A line's number is counted when its first bytes are seen. */
  const tooLong = (start: string): void => {
    if (!start.trimStart().startsWith('#')) invalid(start, `line longer than ${MAX_TARGET_LINE} characters`);
  };
  const emit = (text: string): Target | null => {
    try {
      return parseTargetLine(text, options.defaultPort);
    } catch (err) {
      invalid(text, isMsnpProbeError(err) ? err.message : String(err));
      return null;
    }
  };
  for await (const chunk of input) {
    let data = pending + (typeof chunk === 'string' ? chunk : chunk.toString('latin1'));
    if (lineNo === 0 && !skipping) data = data.replace(BOM, '');
    pending = '';
    for (;;) {
      const nl = data.indexOf('\n');
      if (nl === -1) break;
      const line = data.slice(0, nl);
      data = data.slice(nl + 1);
      if (skipping) {
        skipping = false;
        continue;
      }
      lineNo++;
      if (line.replace(/\r$/, '').length > MAX_TARGET_LINE) {
        tooLong(line);
        continue;
      }
      const target = emit(line);
      if (target) yield target;
    }
    if (!skipping && data.length > MAX_TARGET_LINE) {
      lineNo++;
      tooLong(data);
      skipping = true;
    }
    pending = skipping ? '' : data;
  }
  if (!skipping && pending !== '') {
    lineNo++;
    const target = emit(pending);
    if (target) yield target;
  }
}

/** `2/5` -> { index: 2, count: 5 }. */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d{1,6})\/(\d{1,6})$/.exec(text.trim());
  if (!m) throw msnpError('ERR_OPTION', `'${text}' is not I/N (e.g. 1/4)`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) throw msnpError('ERR_OPTION', `shard ${index}/${count}: I must be from 1 to N`);
  return { index, count };
}

/** FNV-1a: a stable hash, so every machine puts a target in the same shard whatever the list order. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function inShard(target: Target, shard: { index: number; count: number }): boolean {
  return fnv1a(`${target.host.toLowerCase()}|${target.port}`) % shard.count === shard.index - 1;
}
