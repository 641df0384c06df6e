import { isIP } from 'node:net';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a name to addresses; injectable so tests never send a DNS query off the machine. */
export type LookupFn = (host: string) => Promise<ResolvedAddress[]>;

export const systemLookup: LookupFn = async (host) => {
  // Loaded on the first name, not at import: node:dns sets up its resolver (reading /etc/resolv.conf)
  // when it loads, and a probe of an address never needs it.
  const { lookup } = await import('node:dns/promises');
  const found = await lookup(host, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** `timedOut`: the resolver gave no answer within the deadline (errno `ETIMEOUT`, as c-ares names it). */
export type ResolveResult = { ok: true; address: ResolvedAddress } | { ok: false; errno: string; timedOut?: true };

export interface ResolveOptions {
  /** The resolver's answer must come within this many ms; a resolver that never answers cannot hold a probe. */
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
}

const TIMED_OUT: unique symbol = Symbol('timed out');

/** Settles with `work`, or rejects with TIMED_OUT after `timeoutMs`, or with the abort reason. */
function within<T>(work: Promise<T>, { timeoutMs, signal }: ResolveOptions): Promise<T> {
  if (timeoutMs === undefined && !signal) return work;
  return new Promise<T>((resolve, reject) => {
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => done(() => reject(TIMED_OUT)), timeoutMs);
    const onAbort = (): void => done(() => reject(signal?.reason));
    const done = (settle: () => void): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      settle();
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => done(() => resolve(value)),
      (err: unknown) => done(() => reject(err)),
    );
  });
}

/**
 * Resolves once per target so every version probes the same address. Names under `.invalid`
 * (RFC 6761) fail without a query. Rejects only when `signal` aborts.
 */
export async function resolveTarget(
  host: string,
  lookup: LookupFn = systemLookup,
  options: ResolveOptions = {},
): Promise<ResolveResult> {
  const family = isIP(host);
  if (family !== 0) return { ok: true, address: { address: host, family: family === 6 ? 6 : 4 } };
  if (/(^|\.)invalid\.?$/i.test(host)) return { ok: false, errno: 'ENOTFOUND' };
  try {
    const found = await within(lookup(host), options);
    const first = found[0];
    return first ? { ok: true, address: first } : { ok: false, errno: 'ENOTFOUND' };
  } catch (err) {
    if (err === TIMED_OUT) return { ok: false, errno: 'ETIMEOUT', timedOut: true };
    if (options.signal?.aborted) throw options.signal.reason;
    return { ok: false, errno: errnoOf(err) ?? 'ENOTFOUND' };
  }
}

export function errnoOf(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}
