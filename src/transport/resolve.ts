import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a name to addresses; injectable so tests never send a DNS query off the machine. */
export type LookupFn = (host: string) => Promise<ResolvedAddress[]>;

export const systemLookup: LookupFn = async (host) => {
  const found = await dnsLookup(host, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

export type ResolveResult = { ok: true; address: ResolvedAddress } | { ok: false; errno: string };

/**
 * Resolves once per target so every version probes the same address. Names under `.invalid`
 * (RFC 6761) fail without a query.
 */
export async function resolveTarget(host: string, lookup: LookupFn = systemLookup): Promise<ResolveResult> {
  const family = isIP(host);
  if (family !== 0) return { ok: true, address: { address: host, family: family === 6 ? 6 : 4 } };
  if (/(^|\.)invalid\.?$/i.test(host)) return { ok: false, errno: 'ENOTFOUND' };
  try {
    const found = await lookup(host);
    const first = found[0];
    return first ? { ok: true, address: first } : { ok: false, errno: 'ENOTFOUND' };
  } catch (err) {
    return { ok: false, errno: errnoOf(err) ?? 'ENOTFOUND' };
  }
}

export function errnoOf(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}
