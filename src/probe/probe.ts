import pLimit from 'p-limit';
import { performance } from 'node:perf_hooks';
import { answeredAsMsnp } from '../codec/outcome.js';
import { KNOWN_VERSIONS } from '../codec/range.js';
import { DEFAULT_PORT } from '../codec/target.js';
import { msnpError } from '../errors.js';
import { resolveTarget, type LookupFn } from '../transport/resolve.js';
import { sendVer, type ExchangeOutcome } from './version-probe.js';

export const DEFAULT_TIMEOUT_MS = 5000;
/** Four connections at a time: quick on a real server, gentle enough for a small revival server. */
export const DEFAULT_CONCURRENCY = 4;
/** The trId of every VER we send. */
export const VER_TRID = 1;

export interface ProbeOptions {
  host: string;
  port?: number;
  /** Versions to probe, one connection each. Default: MSNP2..MSNP21. */
  versions?: readonly number[];
  /** Deadline per connection, covering connect and reply. */
  timeoutMs?: number;
  /** Connections in flight at once for this target. */
  concurrency?: number;
  /** Also send the combined offer (every version, highest first) to learn the preferred version. */
  offer?: boolean;
  signal?: AbortSignal;
  /** Name resolution; defaults to the system resolver. */
  lookup?: LookupFn;
  /** Keep every byte sent and received per probe. */
  transcript?: boolean;
}

export type VersionProbe = { version: number } & ExchangeOutcome;
export type OfferProbe = { offered: number[] } & ExchangeOutcome;

export interface TargetReport {
  host: string;
  port: number;
  /** The address connected to (resolved once per target), or null when the name did not resolve. */
  address: string | null;
  family: 4 | 6 | null;
  probes: VersionProbe[];
  /** Versions whose probe was accepted, ascending. */
  accepted: number[];
  /** The version chosen from the combined offer, or null. */
  preferred: number | null;
  offer: OfferProbe | null;
  /** Whether any reply came from an MSNP server (false: refused, silent, unreachable or another protocol). */
  answered: boolean;
  elapsedMs: number;
}

function checkOptions(options: ProbeOptions): Required<Pick<ProbeOptions, 'port' | 'timeoutMs' | 'concurrency'>> & { versions: number[] } {
  const port = options.port ?? DEFAULT_PORT;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const versions = [...new Set(options.versions ?? KNOWN_VERSIONS)].sort((a, b) => a - b);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw msnpError('ERR_TARGET', `port ${port} is outside 1..65535`);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw msnpError('ERR_OPTION', `timeout ${timeoutMs} must be a positive number of milliseconds`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw msnpError('ERR_OPTION', `concurrency ${concurrency} must be a whole number of at least 1`);
  if (versions.length === 0) throw msnpError('ERR_RANGE', 'no versions to probe');
  for (const v of versions) {
    if (!Number.isInteger(v) || v < 1 || v > 99) throw msnpError('ERR_RANGE', `version ${v} is outside 1..99`);
  }
  return { port, timeoutMs, concurrency, versions };
}

/**
 * Probes one server: one connection per version, plus the combined offer. Resolves with every
 * outcome; rejects only on bad options (MsnpProbeError) or when `signal` aborts.
 */
export async function probe(options: ProbeOptions): Promise<TargetReport> {
  const { port, timeoutMs, concurrency, versions } = checkOptions(options);
  const started = performance.now();
  const signal = options.signal;
  signal?.throwIfAborted();
  const resolved = await resolveTarget(options.host, options.lookup);
  signal?.throwIfAborted();
  const base = { host: options.host, port };
  if (!resolved.ok) {
    const probes: VersionProbe[] = versions.map((version) => ({
      version,
      status: 'unreachable',
      reply: null,
      errno: resolved.errno,
      reason: 'dns',
      elapsedMs: 0,
      bytesReceived: 0,
    }));
    const elapsedMs = Math.round(performance.now() - started);
    return { ...base, address: null, family: null, probes, accepted: [], preferred: null, offer: null, answered: false, elapsedMs };
  }
  const { address, family } = resolved.address;
  const connect = { address, port, family, timeoutMs, signal, transcript: options.transcript ?? false };
  const limit = pLimit(concurrency);
  const run = <T>(fn: () => Promise<T>): Promise<T> =>
    limit(() => {
      signal?.throwIfAborted();
      return fn();
    });
  const offered = [...versions].reverse();
  const offerWanted = options.offer ?? true;
  // Launch the offer first so a slow server answers it while the per-version probes queue.
  const offerTask = offerWanted
    ? run(async (): Promise<OfferProbe> => ({ offered, ...(await sendVer(connect, { trId: VER_TRID, offered })) }))
    : Promise.resolve(null);
  const probeTasks = versions.map((version) =>
    run(async (): Promise<VersionProbe> => ({ version, ...(await sendVer(connect, { trId: VER_TRID, offered: [version] })) })),
  );
  let probes: VersionProbe[];
  let offer: OfferProbe | null;
  try {
    [offer, probes] = await Promise.all([offerTask, Promise.all(probeTasks)]);
  } finally {
    limit.clearQueue();
  }
  const accepted = probes.filter((p) => p.status === 'accepted').map((p) => p.version);
  const preferred = offer?.status === 'accepted' ? offer.version : null;
  const answered = probes.some(answeredAsMsnp) || (offer !== null && answeredAsMsnp(offer));
  const elapsedMs = Math.round(performance.now() - started);
  return { ...base, address, family, probes, accepted, preferred, offer, answered, elapsedMs };
}
