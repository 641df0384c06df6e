import { msnpError } from '../core/errors.js';
import { MAX_VERSION, MIN_VERSION } from '../core/limits.js';

export { MIN_VERSION, MAX_VERSION } from '../core/limits.js';
/** Every MSNP version a real server is known to have spoken. */
export const KNOWN_VERSIONS: readonly number[] = Object.freeze(range(2, 21));

/** Every whole number from `from` to `to`, ascending. */
export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v++) out.push(v);
  return out;
}

function parseVersion(token: string, whole: string): number {
  const m = /^(?:msnp)?(\d{1,3})$/i.exec(token.trim());
  if (!m?.[1]) throw msnpError('ERR_RANGE', `'${token.trim()}' in '${whole}' is not a version (use 8, MSNP8 or 8-18)`);
  const v = Number(m[1]);
  if (v < MIN_VERSION || v > MAX_VERSION) {
    throw msnpError('ERR_RANGE', `version ${v} is outside ${MIN_VERSION}..${MAX_VERSION}`);
  }
  return v;
}

/**
 * Parses `7-21`, `8,11-13,18` or `MSNP8-MSNP18` into a sorted list of distinct versions.
 * Throws MsnpProbeError ERR_RANGE with a one-line message on anything else.
 */
export function parseRange(text: string): number[] {
  const whole = text.trim();
  if (whole === '') throw msnpError('ERR_RANGE', 'the range is empty');
  const set = new Set<number>();
  for (const part of whole.split(',')) {
    if (part.trim() === '') throw msnpError('ERR_RANGE', `empty item in '${whole}'`);
    const bounds = part.split('-');
    if (bounds.length > 2) throw msnpError('ERR_RANGE', `'${part.trim()}' in '${whole}' is not a range`);
    const from = parseVersion(bounds[0] ?? '', whole);
    const to = bounds.length === 2 ? parseVersion(bounds[1] ?? '', whole) : from;
    if (to < from) throw msnpError('ERR_RANGE', `'${part.trim()}' is reversed (write ${to}-${from})`);
    for (const v of range(from, to)) set.add(v);
  }
  return [...set].sort((a, b) => a - b);
}

/** `[12,8,9,10,9]` -> `[[8, 10], [12, 12]]`: the distinct numbers as runs of consecutive ones, ascending. */
export function consecutiveRuns(numbers: readonly number[]): [from: number, to: number][] {
  const sorted = [...new Set(numbers)].sort((a, b) => a - b);
  const runs: [number, number][] = [];
  for (const n of sorted) {
    const last = runs.at(-1);
    if (last && n === last[1] + 1) last[1] = n;
    else runs.push([n, n]);
  }
  return runs;
}

/** `[8,9,10,12]` -> `MSNP8-MSNP10, MSNP12`. */
export function formatVersions(versions: readonly number[]): string {
  return consecutiveRuns(versions)
    .map(([from, to]) => (from === to ? `MSNP${from}` : `MSNP${from}-MSNP${to}`))
    .join(', ');
}
