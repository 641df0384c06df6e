import { isIP } from 'node:net';

/**
 * Addresses as scanner users write them: numeric IPv4 spellings (inet_aton), CIDR blocks and
 * ranges, expanded lazily, and exclusions. Pure: nothing here connects or resolves.
 */

/** A failure with a message fit for a usage error or an invalid list line. */
export class AddressError extends Error {
  override name = 'AddressError';
}

/**
 * One part of an inet_aton address: `0x`-prefixed hex, `0`-prefixed octal, else decimal.
 * NaN when the part is not a number in its base.
 */
function atonPart(part: string): number {
  if (/^0x[0-9a-f]{1,8}$/i.test(part)) return parseInt(part.slice(2), 16);
  if (/^0[0-7]{0,11}$/.test(part)) return parseInt(part, 8);
  if (/^[1-9][0-9]{0,9}$/.test(part)) return parseInt(part, 10);
  return NaN;
}

/**
 * An IPv4 address in any spelling inet_aton accepts (`127.0.0.1`, `127.1`, `0x7f.1`, `0177.0.0.1`,
 * `2130706433`) as a 32-bit number, or null. The last part fills all the bytes the earlier ones
 * leave, as in inet_aton(3).
 */
export function parseIPv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length > 4) return null;
  const values = parts.map(atonPart);
  if (values.some((v) => Number.isNaN(v))) return null;
  const last = values.pop() ?? NaN;
  if (values.some((v) => v > 255)) return null;
  const lastBits = 8 * (4 - values.length);
  if (last >= 2 ** lastBits) return null;
  let n = 0;
  for (const v of values) n = n * 256 + v;
  return n * 2 ** lastBits + last;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** An IPv6 literal (no zone, no brackets) as a 128-bit number, or null. */
export function parseIPv6(text: string): bigint | null {
  // Without a colon it cannot be IPv6; net.isIP would still compile Node's IPv6 pattern (milliseconds) for a name.
  if (!text.includes(':') || isIP(text) !== 6 || text.includes('%')) return null;
  let groups: string[];
  let tail: number[] = [];
  let s = text;
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4?.[1] && v4[2]) {
    const n = parseIPv4(v4[2]);
    if (n === null) return null;
    tail = [n >>> 16, n & 0xffff];
    s = v4[1].endsWith('::') ? v4[1] : v4[1].slice(0, -1);
  }
  const gap = s.indexOf('::');
  if (gap === -1) {
    groups = s === '' ? [] : s.split(':');
  } else {
    const head = s.slice(0, gap) === '' ? [] : s.slice(0, gap).split(':');
    const rest = s.slice(gap + 2) === '' ? [] : s.slice(gap + 2).split(':');
    const zeros = 8 - tail.length - head.length - rest.length;
    groups = [...head, ...Array<string>(zeros).fill('0'), ...rest];
  }
  const all = [...groups.map((g) => parseInt(g, 16)), ...tail];
  if (all.length !== 8) return null;
  return all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** RFC 5952: lower case, no leading zeros, the longest run of two or more zero groups as `::`. */
export function formatIPv6(n: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(16 * (7 - i))) & 0xffffn));
  // IPv4-mapped addresses keep their dotted tail, as RFC 5952 section 5 recommends.
  if (n >> 32n === 0xffffn) return `::ffff:${formatIPv4(Number(n & 0xffffffffn))}`;
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best === -1) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/**
 * One spelling per host, so that baseline, shard and deduplication see one host: IPv4 in any
 * inet_aton spelling becomes the dotted quad, IPv6 is compressed (RFC 5952; a zone is kept as
 * written), names are lower-cased. Anything else is returned unchanged for the caller to judge.
 */
export function normalizeHost(host: string): string {
  const zone = host.indexOf('%');
  if (zone !== -1 && isIP(host) === 6) {
    const n = parseIPv6(host.slice(0, zone));
    return n === null ? host : `${formatIPv6(n)}${host.slice(zone)}`;
  }
  const v6 = parseIPv6(host);
  if (v6 !== null) return formatIPv6(v6);
  const v4 = parseIPv4(host);
  if (v4 !== null) return formatIPv4(v4);
  return host.toLowerCase();
}

/** A contiguous run of addresses of one family, both ends included. */
export interface AddressBlock {
  family: 4 | 6;
  first: bigint;
  last: bigint;
}

/**
 * The largest IPv6 block expanded: a /112 (65536 addresses). IPv6 space cannot be scanned
 * exhaustively, and a /64 written by mistake would otherwise run for ever.
 */
export const MAX_IPV6_PREFIX_BITS = 16;
export const MAX_IPV6_BLOCK = 2n ** BigInt(MAX_IPV6_PREFIX_BITS);

function addressOf(text: string): { family: 4 | 6; value: bigint } | null {
  const v6 = parseIPv6(text);
  if (v6 !== null) return { family: 6, value: v6 };
  const v4 = parseIPv4(text);
  return v4 === null ? null : { family: 4, value: BigInt(v4) };
}

/**
 * `A.B.C.D/N`, `V6/N`, `FIRST-LAST` (two addresses of one family), or null when the text is
 * neither (a single host). A CIDR block's host bits are ignored (`10.0.0.5/24` is 10.0.0.0/24, as
 * nmap and masscan read it), and every address is kept, network and broadcast included.
 * Throws AddressError on a block that is malformed, reversed, or (when `capped`) IPv6 and larger
 * than a /112.
 */
export function parseBlock(text: string, capped = true): AddressBlock | null {
  const slash = text.indexOf('/');
  if (slash !== -1) {
    const addr = addressOf(text.slice(0, slash));
    const bitsText = text.slice(slash + 1);
    if (!addr) throw new AddressError(`'${text}': '${text.slice(0, slash)}' is not an IP address`);
    const width = addr.family === 4 ? 32 : 128;
    if (!/^\d{1,3}$/.test(bitsText) || Number(bitsText) > width) {
      throw new AddressError(`'${text}': the prefix length must be 0 to ${width}`);
    }
    const hostBits = BigInt(width - Number(bitsText));
    const first = (addr.value >> hostBits) << hostBits;
    const block: AddressBlock = { family: addr.family, first, last: first + (1n << hostBits) - 1n };
    return capped ? checkSize(text, block) : block;
  }
  const dash = text.indexOf('-');
  if (dash === -1) return null;
  const from = addressOf(text.slice(0, dash));
  const to = addressOf(text.slice(dash + 1));
  // `a-b` where neither side is an address is a host name with a hyphen.
  if (!from && !to) return null;
  if (!from || !to) throw new AddressError(`'${text}': a range is FIRST-LAST, two IP addresses`);
  if (from.family !== to.family) throw new AddressError(`'${text}': the range mixes IPv4 and IPv6`);
  if (to.value < from.value) throw new AddressError(`'${text}': the range ends before it starts`);
  const block: AddressBlock = { family: from.family, first: from.value, last: to.value };
  return capped ? checkSize(text, block) : block;
}

function checkSize(text: string, block: AddressBlock): AddressBlock {
  if (block.family === 6 && blockSize(block) > MAX_IPV6_BLOCK) {
    const bits = 128 - MAX_IPV6_PREFIX_BITS;
    const why = `IPv6 blocks larger than /${bits} (${MAX_IPV6_BLOCK} addresses) are not expanded`;
    throw new AddressError(`'${text}': ${why}`);
  }
  return block;
}

export function blockSize(block: AddressBlock): bigint {
  return block.last - block.first + 1n;
}

export function formatAddress(family: 4 | 6, value: bigint): string {
  return family === 4 ? formatIPv4(Number(value)) : formatIPv6(value);
}

/**
 * Every address of `block` not in `exclude`, in order, one at a time: a /8 costs no memory, and
 * an excluded stretch is jumped over rather than walked.
 */
export function* expandBlock(block: AddressBlock, exclude?: AddressFilter | null): Generator<string> {
  let at = block.first;
  while (at <= block.last) {
    const next = exclude ? exclude.nextAllowed(block.family, at) : at;
    if (next > block.last) return;
    yield formatAddress(block.family, next);
    at = next + 1n;
  }
}

/**
 * Addresses, blocks and names never to probe. Addresses are kept as sorted, merged intervals so
 * a check is a binary search however long the list; names match case-insensitively as written
 * (a name is never resolved to be checked).
 */
export class AddressFilter {
  private readonly intervals: Record<4 | 6, [bigint, bigint][]> = { 4: [], 6: [] };
  private readonly names = new Set<string>();
  private merged = true;

  /** Adds one entry: an address in any spelling, a CIDR block, a range, or a host name. */
  add(entry: string): void {
    let text = entry.trim();
    if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
    if (text === '') throw new AddressError('an empty entry');
    // Excluding IPv6 space is not capped: only expansion is.
    const block = parseBlock(text, false);
    if (block) {
      this.intervals[block.family].push([block.first, block.last]);
      this.merged = false;
      return;
    }
    const addr = addressOf(text);
    if (addr) {
      this.intervals[addr.family].push([addr.value, addr.value]);
      this.merged = false;
      return;
    }
    if (!/^[a-z0-9_](?:[a-z0-9_.-]{0,252})$/i.test(text)) {
      throw new AddressError(`'${text}' is not an address, CIDR block, range or host name`);
    }
    this.names.add(text.toLowerCase().replace(/\.$/, ''));
  }

  get empty(): boolean {
    return this.names.size === 0 && this.intervals[4].length === 0 && this.intervals[6].length === 0;
  }

  private merge(): void {
    if (this.merged) return;
    for (const family of [4, 6] as const) {
      const sorted = this.intervals[family].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const out: [bigint, bigint][] = [];
      for (const [lo, hi] of sorted) {
        const top = out[out.length - 1];
        if (top && lo <= top[1] + 1n) {
          if (hi > top[1]) top[1] = hi;
        } else out.push([lo, hi]);
      }
      this.intervals[family] = out;
    }
    this.merged = true;
  }

  /** The interval holding `value`, if any. */
  private find(family: 4 | 6, value: bigint): [bigint, bigint] | undefined {
    this.merge();
    const list = this.intervals[family];
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const iv = list[mid];
      if (!iv) break;
      if (value < iv[0]) hi = mid - 1;
      else if (value > iv[1]) lo = mid + 1;
      else return iv;
    }
    return undefined;
  }

  /** The first address at or after `value` that is not excluded (may pass the family's end). */
  nextAllowed(family: 4 | 6, value: bigint): bigint {
    const iv = this.find(family, value);
    return iv ? iv[1] + 1n : value;
  }

  /** Whether a host (any spelling of an address, or a name) is excluded. */
  excludes(host: string): boolean {
    const addr = addressOf(host);
    if (addr) return this.find(addr.family, addr.value) !== undefined;
    return this.names.has(host.toLowerCase().replace(/\.$/, ''));
  }
}

/** Entries of an exclude list: comma- or whitespace-separated, `#` starts a comment. */
export function excludeEntries(text: string): string[] {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => line.replace(/#.*/, ''))
    .flatMap((line) => line.split(/[\s,]+/))
    .filter((e) => e !== '');
}

/** A block of targets sharing one port. */
export interface TargetBlock {
  block: AddressBlock;
  port: number;
}

/**
 * A target that names a block: `10.0.0.0/30`, `10.0.0.0/30:1864`, `10.0.0.1-10.0.0.9:1864`,
 * `2001:db8::/120`, `[2001:db8::/120]:1864`. Null when the text is not a block (a single host,
 * left to parseTarget). `parsePort` checks a port the text names.
 */
export function parseTargetBlock(
  text: string,
  defaultPort: number,
  parsePort: (t: string) => number,
): TargetBlock | null {
  const s = text.trim();
  // A URL's slashes are not a prefix length: msnp://host:port is a single target.
  if ((!s.includes('/') && !s.includes('-')) || s.includes('://')) return null;
  if (s.startsWith('[')) {
    const m = /^\[([^\]]*)\](?::(.*))?$/.exec(s);
    const block = m?.[1] ? parseBlock(m[1]) : null;
    if (!block) return null;
    return { block, port: m?.[2] === undefined ? defaultPort : parsePort(m[2]) };
  }
  // One colon: IPv4 with a port; more: an IPv6 block, which needs brackets to carry a port.
  const colons = s.split(':').length - 1;
  const hostPart = colons === 1 ? s.slice(0, s.indexOf(':')) : s;
  const block = parseBlock(hostPart);
  if (!block) return null;
  if (colons === 1 && block.family === 6) return null;
  return { block, port: colons === 1 ? parsePort(s.slice(s.indexOf(':') + 1)) : defaultPort };
}
