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
  const text = raw.replace(/#.*$/, '').trim();
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

/**
 * Streams targets from a byte stream (a file or stdin), one per line, never holding more than one
 * line: a list of a million lines costs no more memory than a list of ten.
 */
export async function* readTargets(
  input: AsyncIterable<Buffer | string>,
  options: { defaultPort?: number; onInvalid?: (invalid: InvalidLine) => void } = {},
): AsyncGenerator<Target> {
  let pending = '';
  let skipping = false;
  let lineNo = 0;
  const emit = (text: string): Target | null => {
    lineNo++;
    try {
      return parseTargetLine(text, options.defaultPort);
    } catch (err) {
      options.onInvalid?.({ line: lineNo, text: text.slice(0, 80), message: isMsnpProbeError(err) ? err.message : String(err) });
      return null;
    }
  };
  for await (const chunk of input) {
    let data = pending + (typeof chunk === 'string' ? chunk : chunk.toString('latin1'));
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
      const target = emit(line);
      if (target) yield target;
    }
    if (data.length > MAX_TARGET_LINE) {
      // An over-long line: report it once, then drop bytes until its newline.
      if (!skipping) {
        lineNo++;
        options.onInvalid?.({ line: lineNo, text: data.slice(0, 80), message: `line longer than ${MAX_TARGET_LINE} characters` });
      }
      skipping = true;
      data = '';
    }
    pending = data;
  }
  if (!skipping && pending !== '') {
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
