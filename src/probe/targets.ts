import { isIP } from 'node:net';
import { parsePort, parseTarget, DEFAULT_PORT, type Target } from '../input/target.js';
import { isMsnpProbeError, msnpError } from '../core/errors.js';
import { targetKey } from '../core/model.js';
import { AddressError, expandBlock, normalizeHost, parseTargetBlock } from '../input/address.js';
import type { AddressFilter, TargetBlock } from '../input/address.js';

export { MAX_TARGET_LINE, MAX_SKIPPED_LINE } from '../core/limits.js';
import { MAX_SKIPPED_LINE, MAX_TARGET_LINE } from '../core/limits.js';

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
    if (isIP(host) === 6) return { host: normalizeHost(host), port: parsePort(tokens[1] ?? '') };
    return { host: parseTarget(host).host, port: parsePort(tokens[1] ?? '') };
  }
  throw msnpError('ERR_TARGET', `'${text.slice(0, 80)}' is not HOST[:PORT]`);
}

/**
 * A target that names a block of addresses (`10.0.0.0/24`, `10.0.0.1-10.0.0.9:1864`,
 * `[2001:db8::/120]:1864`), or null for anything else. Throws MsnpProbeError ERR_TARGET on a bad block.
 */
export function parseBlockTarget(text: string, defaultPort = DEFAULT_PORT): TargetBlock | null {
  try {
    return parseTargetBlock(text, defaultPort, (t) => parsePort(t));
  } catch (err) {
    if (err instanceof AddressError) throw msnpError('ERR_TARGET', err.message);
    throw err;
  }
}

/** The targets of a block, one at a time, skipping excluded addresses without walking them. */
export function* blockTargets(tb: TargetBlock, exclude?: AddressFilter | null): Generator<Target> {
  for (const host of expandBlock(tb.block, exclude)) yield { host, port: tb.port };
}

/** A list line: a block, a single target, or null for a blank or comment line. */
function parseListLine(raw: string, defaultPort: number): TargetBlock | Target | null {
  const hash = raw.indexOf('#');
  const text = (hash === -1 ? raw : raw.slice(0, hash)).trim();
  return (text !== '' && !/\s/.test(text) && parseBlockTarget(text, defaultPort)) || parseTargetLine(raw, defaultPort);
}

/** A UTF-8 byte order mark as read through latin1, and as a decoded string. */
const BOM_BYTES = '\xef\xbb\xbf';
const BOM_CHAR = '\ufeff';

/** What an invalid line's message may quote of it. */
const QUOTED = 80;

/**
 * Streams targets from a byte stream (a file or stdin), one per line, never holding more than one
 * line: a list of a million lines costs no more memory than a list of ten. LF, CRLF or a bare CR
 * end a line, an optional UTF-8 byte order mark is dropped, and none of it depends on where the
 * read chunks cut the input. A line longer than MAX_TARGET_LINE is invalid (unless it is a
 * comment); binary input (a NUL byte) or a line with no end within MAX_SKIPPED_LINE characters
 * throws MsnpProbeError ERR_TARGET.
 */
export async function* readTargets(
  input: AsyncIterable<Buffer | string>,
  options: { defaultPort?: number; onInvalid?: (invalid: InvalidLine) => void; exclude?: AddressFilter | null } = {},
): AsyncGenerator<Target> {
  /** The current line so far, at most about MAX_TARGET_LINE characters. */
  let pending = '';
  /** Inside an over-long line: drop characters until its end, counting them. */
  let skipping = false;
  let skipped = 0;
  /** The start of the over-long line being skipped, to report it once it ends (null: a comment). */
  let tooLong: string | null = null;
  /** The last chunk ended in CR: an LF first in the next one belongs to it. */
  let afterCr = false;
  /** The first bytes, held until it is clear whether they are a byte order mark. */
  let head: string | null = '';
  let lineNo = 0;
  const lineEnd = /[\r\n]/g;
  const expand = (item: Target | TargetBlock): Generator<Target> => expandItem(item, options.exclude);
  const invalid = (text: string, message: string): void => {
    options.onInvalid?.({
      line: lineNo,
      text: text.slice(0, QUOTED),
      message: message.length > 200 ? `${message.slice(0, 200)}...` : message,
    });
  };
  const emit = (text: string): Target | TargetBlock | null => {
    try {
      return parseListLine(text, options.defaultPort ?? DEFAULT_PORT);
    } catch (err) {
      invalid(text, isMsnpProbeError(err) ? err.message : String(err));
      return null;
    }
  };
  /** Adds characters of the current line (no line end among them). */
  const append = (piece: string): void => {
    if (piece.includes('\0')) {
      throw msnpError('ERR_TARGET', `target list line ${lineNo + 1}: a NUL byte: binary data, not a list of targets`);
    }
    if (skipping) {
      skipped += piece.length;
    } else {
      pending += piece;
      if (pending.length <= MAX_TARGET_LINE) return;
      // A line's number is counted when it is found too long.
      lineNo++;
      // Reported when the line ends: a line that never does gets only the error below.
      tooLong = pending.trimStart().startsWith('#') ? null : pending.slice(0, QUOTED);
      skipping = true;
      skipped = pending.length;
      pending = '';
    }
    if (skipped > MAX_SKIPPED_LINE) {
      const what = `no line end within ${MAX_SKIPPED_LINE} characters: not a list of targets`;
      throw msnpError('ERR_TARGET', `target list line ${lineNo}: ${what}`);
    }
  };
  /** The current line ended: its target or block, if it has one. */
  const endLine = (): Target | TargetBlock | null => {
    if (skipping) {
      skipping = false;
      skipped = 0;
      if (tooLong !== null) invalid(tooLong, `line longer than ${MAX_TARGET_LINE} characters`);
      return null;
    }
    lineNo++;
    const line = pending;
    pending = '';
    return emit(line);
  };
  for await (const chunk of input) {
    let data = typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    if (head !== null) {
      head += data;
      // A byte order mark cut by a read: wait for the rest before deciding.
      if (head.length < BOM_BYTES.length && BOM_BYTES.startsWith(head)) continue;
      if (head.startsWith(BOM_BYTES)) data = head.slice(BOM_BYTES.length);
      else data = head.startsWith(BOM_CHAR) ? head.slice(1) : head;
      head = null;
    }
    let at = 0;
    if (afterCr && data.length > 0) {
      afterCr = false;
      if (data[0] === '\n') at = 1;
    }
    const found: (Target | TargetBlock)[] = [];
    lineEnd.lastIndex = at;
    while (at < data.length) {
      const m = lineEnd.exec(data);
      if (m === null) {
        append(data.slice(at));
        break;
      }
      append(data.slice(at, m.index));
      const target = endLine();
      if (target) found.push(target);
      at = m.index + 1;
      if (m[0] === '\r') {
        if (at === data.length) afterCr = true;
        else if (data[at] === '\n') at++;
      }
      lineEnd.lastIndex = at;
    }
    for (const item of found) yield* expand(item);
  }
  if (head) append(head);
  if (skipping || pending !== '') {
    const target = endLine();
    if (target) yield* expand(target);
  }
}

/** A block's targets are yielded one by one as they are asked for: a /8 line is never an array. */
function* expandItem(item: Target | TargetBlock, exclude: AddressFilter | null | undefined): Generator<Target> {
  if ('block' in item) yield* blockTargets(item, exclude);
  else if (!exclude?.excludes(item.host)) yield item;
}

/** `2/5` -> { index: 2, count: 5 }. */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d{1,6})\/(\d{1,6})$/.exec(text.trim());
  if (!m) throw msnpError('ERR_OPTION', `'${text}' is not I/N (e.g. 1/4)`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count)
    throw msnpError('ERR_OPTION', `shard ${index}/${count}: I must be from 1 to N`);
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
  return fnv1a(targetKey(target.host, target.port)) % shard.count === shard.index - 1;
}
