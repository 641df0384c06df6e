import { limiter as pLimit, type Limiter } from './limiter.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { answeredAsMsnp, isTransient, type ProbeStatus } from '../codec/outcome.js';
import { DEFAULT_TRANSPORT, transportOf } from '../transport/registry.js';
import { msnpError } from '../core/errors.js';
import { isIP } from 'node:net';
import { resolveTarget, type LookupFn } from '../transport/resolve.js';
import { socksDialer, type ProxySpec } from '../transport/socks.js';
import { abortableGate, linkedSignal } from './pacer.js';
import { BudgetRegistry, rateLimiterFor, serverKey, type RateLimiter } from './budget.js';
import { sendDeepAs, sendVerAs, type ConnectOptions } from './version-probe.js';
import { abortableSleep } from '../transport/exchange.js';
import type {
  Agreement,
  OfferProbe,
  ProbeOutcome,
  RedirectSummary,
  Repeats,
  TargetReport,
  TransportName,
  VersionProbe,
} from '../core/model.js';
import type { VerRequest } from '../codec/classify.js';
import { answerLabel } from '../report/render/answer.js';
import { isValidHandle } from '../codec/deep.js';
import { checkOptions } from './options.js';
import { fingerprint as fingerprintTarget, runScript, type FingerprintReport } from './fingerprint/probe.js';

export { DEFAULT_TIMEOUT_MS, DEFAULT_CONCURRENCY, DEFAULT_GATEWAY_PORT } from '../core/defaults.js';
/** The trId of every VER we send. */
export const VER_TRID = 1;

/** Runs `fn` when a shared budget allows (a p-limit instance fits): bounds connections across targets. */
export type Gate = <T>(fn: () => Promise<T>) => Promise<T>;

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
  /** New connections per second to this target (with jitter); default: no limit. */
  ratePerSecond?: number;
  /**
   * The per-server budgets (`concurrency`, `ratePerSecond`, back-off), keyed by resolved address
   * and port, to share with other calls: `scan()` passes one for the whole run. Default: this call's own.
   */
  budgets?: BudgetRegistry;
  /** New connections per second across everything sharing `rateLimiter` (fractional allowed); default: no limit. */
  maxRate?: number;
  /** The `maxRate` limiter to share with other calls (`scan()` passes one for the whole run); wins over `maxRate`. */
  rateLimiter?: RateLimiter;
  /** Re-probe transient outcomes (timeout, reset, closed without bytes, busy codes) up to this many times. */
  retries?: number;
  /** Probe every version this many times and report how far the answers agree. Default 1. */
  attempts?: number;
  /** A budget shared with other targets (e.g. `pLimit(64)`), taken for each connection. */
  gate?: Gate;
  signal?: AbortSignal;
  /** Name resolution; defaults to the system resolver. */
  lookup?: LookupFn;
  /** Keep every byte sent and received per probe. */
  transcript?: boolean;
  /** After an accepted VER, go on like a real client (CVR, INF, first USR) on the same connection. */
  deep?: boolean;
  /** With `deep`: the account named in CVR and USR (e-mail-like; never a password). Default `probe@example.com`. */
  handle?: string;
  /**
   * How probes reach the server, by name in the transport registry: `tcp` (default, port 1863) or
   * `http`: tunnel every probe through the MSN HTTP gateway (port 80).
   */
  transport?: TransportName;
  /** With `transport: 'http'`: the `IP=` the gateway is asked to reach. Default: the target host. */
  gatewayNsHost?: string;
  /** After the per-version probes, a few behavioural probes to name the implementation (docs/FINGERPRINTS.md). */
  fingerprint?: boolean;
  /**
   * Connect through a SOCKS5 proxy, whatever the transport (every gateway request too). With
   * `socks5h` a target's name is sent to the proxy unresolved: no name is looked up here, and the
   * report's `address` is null.
   */
  proxy?: ProxySpec;
}

export type { Agreement, Repeats, VersionProbe, RedirectSummary, OfferProbe, TargetReport } from '../core/model.js';

const passThrough: Gate = (fn) => fn();

/** A turn the pace refused at the last moment (see `paced`). */
const REFUSED: unique symbol = Symbol('refused');

/**
 * Probes one server: one connection per version, plus the combined offer. Resolves with every
 * outcome; rejects only on bad options (MsnpProbeError) or when `signal` aborts.
 */
export async function probe(options: ProbeOptions): Promise<TargetReport> {
  const link = linkedSignal(options.signal);
  try {
    return await probeLinked(link.signal ? { ...options, signal: link.signal } : options);
  } finally {
    link.release();
  }
}

async function probeLinked(options: ProbeOptions): Promise<TargetReport> {
  const { port, timeoutMs, concurrency, versions, retries, attempts, ratePerSecond } = checkOptions(options);
  if (options.handle !== undefined && !isValidHandle(options.handle)) {
    throw msnpError('ERR_OPTION', 'handle must be an e-mail-like address (name@domain)');
  }
  const started = performance.now();
  const signal = options.signal;
  signal?.throwIfAborted();
  // An unknown name is a bad option, before any connection is made.
  const transport = transportOf(options.transport ?? DEFAULT_TRANSPORT).name;
  const dialer = options.proxy ? socksDialer(options.proxy) : undefined;
  // With socks5h the proxy resolves the name: nothing is looked up here, not even for `.invalid`.
  const remoteName = options.proxy?.protocol === 'socks5h' && isIP(options.host) === 0;
  // The deadline covers resolution too: a resolver that never answers must not hold the target.
  const resolved = remoteName ? null : await resolveTarget(options.host, options.lookup, { timeoutMs, signal });
  signal?.throwIfAborted();
  const base = { host: options.host, port, transport, ...(dialer?.via ? { proxy: dialer.via } : {}) };
  if (resolved && !resolved.ok) {
    // Every version waited for this resolution: its time is theirs.
    const spent = { elapsedMs: Math.round((performance.now() - started) * 10) / 10, bytesReceived: 0 };
    const probes: VersionProbe[] = versions.map((version) =>
      resolved.timedOut
        ? { version, status: 'timeout', reply: null, phase: 'resolve', ...spent }
        : { version, status: 'unreachable', reply: null, errno: resolved.errno, reason: 'dns', ...spent },
    );
    const elapsedMs = Math.round(performance.now() - started);
    return {
      ...base,
      address: null,
      family: null,
      probes,
      accepted: [],
      preferred: null,
      offer: null,
      answered: false,
      elapsedMs,
    };
  }
  // With a name the proxy resolves, the name is what is dialled and no address is known here.
  const address = resolved ? resolved.address.address : null;
  const family = resolved ? resolved.address.family : null;
  const connect: ConnectOptions = {
    address: address ?? options.host,
    port,
    ...(family !== null ? { family } : {}),
    timeoutMs,
    signal,
    transcript: options.transcript ?? false,
    ...(dialer ? { dialer } : {}),
    transport,
    host: options.host,
    ...(options.gatewayNsHost !== undefined ? { gateway: { nsHost: options.gatewayNsHost } } : {}),
  };
  // Waiting for the shared budget must not outlast an abort, nor connect once the turn comes.
  const gate = abortableGate(options.gate ?? passThrough, signal);
  const startLimiter = options.rateLimiter ?? rateLimiterFor(options.maxRate);
  // The per-target bounds belong to the server reached, not to the list line: every target that
  // reaches this address and port (a duplicate, a name and its address, a redirect) shares them.
  const lease = (options.budgets ?? new BudgetRegistry()).acquire(serverKey(address, options.host, port), {
    concurrency,
    ratePerSecond,
  });
  const { pacer } = lease.budget;
  const serverLimit: Gate = (fn) => lease.budget.limit(fn, signal);

  const single = (request: VerRequest): number | undefined =>
    request.offered.length === 1 ? request.offered[0] : undefined;
  /** What an outcome tells the server's pace: back off after a reset or a busy answer, relax after a clean one. */
  const judge = (outcome: ProbeOutcome): void => {
    if (outcome.status === 'reset' || (outcome.status === 'error' && outcome.busy)) pacer.backoff();
    else if (outcome.status !== 'timeout') pacer.relax();
  };
  /**
   * One connection: wait for this target's pace, then for the shared budget, then check the pace
   * again. Its outcome starts with `head()`'s keys: the report's object, made once.
   */
  const once = <H extends object>(request: VerRequest, head: () => H): Promise<H & ProbeOutcome> => {
    const version = single(request);
    const send = (): Promise<H & ProbeOutcome> =>
      options.deep && version !== undefined
        ? sendDeepAs(connect, version, options.handle, head())
        : sendVerAs(connect, request, head());
    return paced(send, judge);
  };
  /**
   * Any connection (version or fingerprint probe): a place in the server's budget first, then its
   * pace, then the run's shared budget and start rate. The server's place comes first so that a
   * target waiting for its server holds none of the shared places other servers could use.
   * `judge` sees the outcome while the connection still holds its places, so the next connection
   * to this server already sees a back-off it calls for.
   *
   * Written with plain promises rather than async functions: this runs once per connection, and
   * the common case (no pace, no start rate) then costs one promise per budget and no timer.
   */
  const paced = <T>(send: () => Promise<T>, judge: (outcome: T) => void): Promise<T> =>
    serverLimit(() => turn(send, judge));
  /** One turn at the pace and the shared budget; a turn the pace then refuses takes another. */
  const turn = <T>(send: () => Promise<T>, judge: (outcome: T) => void): Promise<T> => {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const delay = pacer.reserve();
    if (delay > 0) {
      return sleep(delay, undefined, signal ? { signal } : undefined).then(() => shared(send, judge));
    }
    return shared(send, judge);
  };
  /** Held back by the shared budget past the pace: give the slot back and take a new turn. */
  const shared = <T>(send: () => Promise<T>, judge: (outcome: T) => void): Promise<T> =>
    gate(() => {
      // Taken inside the shared budget, right before connecting, so starts stay spaced even
      // when the budget releases many waiters at once; a turn the pace then refuses wastes
      // its slot, which only slows the run.
      const wait = startLimiter ? startLimiter.reserve() : 0;
      if (wait <= 0) return startNow(send);
      return abortableSleep(wait, signal).then(() => startNow(send));
    }).then((outcome) => {
      if (outcome === REFUSED) return turn(send, judge);
      // Judged here rather than in a promise of its own: this still runs before the server's
      // budget lets its next connection start (its release waits for this), and the shared
      // budget's next connection starts a microtask later.
      judge(outcome);
      return outcome;
    });
  const startNow = <T>(send: () => Promise<T>): Promise<T | typeof REFUSED> =>
    pacer.start() ? send() : Promise.resolve(REFUSED);
  /** One attempt with its retries of transient outcomes. */
  const attempt = <H extends object>(request: VerRequest, head: () => H): Promise<H & ProbeOutcome & Repeats> =>
    retries === 0 ? once(request, head) : withRetries(request, head);
  const withRetries = async <H extends object>(
    request: VerRequest,
    head: () => H,
  ): Promise<H & ProbeOutcome & Repeats> => {
    let outcome = await once(request, head);
    let used = 0;
    while (used < retries && isTransient(outcome, outcome.bytesReceived)) {
      used++;
      outcome = await once(request, head);
    }
    return used > 0 ? { ...outcome, retries: used } : outcome;
  };
  /** Every attempt at one request; the reported outcome is the most common answer (ties: the earliest). */
  const measure = <H extends object>(request: VerRequest, head: () => H): Promise<H & ProbeOutcome & Repeats> =>
    attempts === 1 ? attempt(request, head) : agreed(request, head);
  const agreed = async <H extends object>(request: VerRequest, head: () => H): Promise<H & ProbeOutcome & Repeats> => {
    const results: (H & ProbeOutcome & Repeats)[] = [];
    for (let i = 0; i < attempts; i++) results.push(await attempt(request, head));
    return withAgreement(results);
  };

  const offered = [...versions].reverse();
  // The offer is launched first, so a slow server answers it while the per-version probes wait.
  const withOffer = options.offer ?? true;
  const total = versions.length + (withOffer ? 1 : 0);
  const probes: VersionProbe[] = new Array(versions.length);
  let offer = null as OfferProbe | null;
  /** The request at `index` of the matrix, measured and written into its place. */
  const measureAt = (index: number): Promise<OfferProbe | VersionProbe> => {
    if (withOffer && index === 0) return measure({ trId: VER_TRID, offered }, () => ({ offered }));
    const version = versions[withOffer ? index - 1 : index] as number;
    return measure({ trId: VER_TRID, offered: [version] }, () => ({ version }));
  };
  const store = (index: number, outcome: OfferProbe | VersionProbe): void => {
    if (withOffer && index === 0) offer = outcome as OfferProbe;
    else probes[withOffer ? index - 1 : index] = outcome as VersionProbe;
  };
  /**
   * Every request of the matrix, in order, at most `concurrency` at once: `concurrency` lanes that
   * each take the next request when theirs is done. Lanes rather than a limiter call per request
   * and a Promise.all over them: those cost a promise, a closure and a queue item per connection.
   * The first rejection (an abort) rejects the matrix and no further request starts.
   */
  const matrix = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      let next = 0;
      let open = 0;
      let stopped = false;
      const fail = (err: unknown): void => {
        if (stopped) return;
        stopped = true;
        reject(err);
      };
      const lane = (): void => {
        let index = 0;
        const settled = (outcome: OfferProbe | VersionProbe): void => {
          store(index, outcome);
          take();
        };
        const take = (): void => {
          if (stopped) return;
          if (next >= total) {
            if (--open === 0) resolve();
            return;
          }
          index = next++;
          let task: Promise<OfferProbe | VersionProbe>;
          try {
            task = measureAt(index);
          } catch (err) {
            fail(err);
            return;
          }
          task.then(settled, fail);
        };
        open++;
        take();
      };
      const lanes = Math.min(concurrency, total);
      if (lanes === 0) resolve();
      for (let i = 0; i < lanes && !stopped; i++) lane();
    });
  let fingerprint: FingerprintReport | undefined;
  // Only the behavioural probes take turns through a limiter: the matrix runs in lanes (see `matrix`).
  let turns: Limiter | undefined;
  try {
    await matrix();
    const answered = probes.some(answeredAsMsnp) || (offer !== null && answeredAsMsnp(offer));
    // After the matrix: its accepted versions choose what the behavioural probes offer.
    if (options.fingerprint) {
      const limit = pLimit(concurrency);
      turns = limit;
      const run = (script: Parameters<typeof runScript>[1]): ReturnType<typeof runScript> =>
        limit(() =>
          paced(
            () => runScript(connect, script),
            (result) => {
              if (result.end === 'reset') pacer.backoff();
              else if (result.end !== 'timeout') pacer.relax();
            },
          ),
        );
      fingerprint = await fingerprintTarget({ probes, answered, transport, run });
    }
  } finally {
    turns?.clearQueue();
    lease.release();
  }
  const accepted = probes.filter((p) => p.status === 'accepted').map((p) => p.version);
  const preferred = offer?.status === 'accepted' ? offer.version : null;
  const answered = probes.some(answeredAsMsnp) || (offer !== null && answeredAsMsnp(offer));
  const elapsedMs = Math.round(performance.now() - started);
  // Spelt out rather than spread from `base`: the same keys in the same order, without copying an object per target.
  const { host } = base;
  const report: TargetReport = dialer?.via
    ? {
        host,
        port,
        transport,
        proxy: dialer.via,
        address,
        family,
        probes,
        accepted,
        preferred,
        offer,
        answered,
        elapsedMs,
      }
    : { host, port, transport, address, family, probes, accepted, preferred, offer, answered, elapsedMs };
  if (options.deep) report.redirects = summarizeRedirects(probes);
  if (fingerprint) report.fingerprint = fingerprint;
  return report;
}

function summarizeRedirects(probes: VersionProbe[]): RedirectSummary[] {
  const byAddress = new Map<string, RedirectSummary>();
  for (const p of probes) {
    const r = p.deep?.redirect;
    if (!r) continue;
    let entry = byAddress.get(r.address);
    if (!entry) {
      entry = {
        to: r.address,
        host: r.host,
        port: r.port,
        versions: [],
        formats: [],
        followed: false,
        reason: 'not-following',
      };
      byAddress.set(r.address, entry);
    }
    entry.versions.push(p.version);
    if (!entry.formats.includes(r.format)) entry.formats.push(r.format);
  }
  return [...byAddress.values()];
}

/**
 * An attempt's answer for agreement: errors with different codes are different answers, and with
 * `deep` so are logins that ended differently (`accepted/confirmed/notification` against
 * `accepted/claimed-only/closed`).
 */
function answerOf(outcome: ProbeOutcome): string {
  return answerLabel({
    status: outcome.status,
    code: outcome.status === 'error' ? outcome.code : undefined,
    deep: outcome.deep,
  });
}

function withAgreement<R extends ProbeOutcome & Repeats>(results: R[]): R {
  const statuses: Partial<Record<ProbeStatus, number>> = {};
  const answers: Record<string, number> = {};
  for (const r of results) {
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    answers[answerOf(r)] = (answers[answerOf(r)] ?? 0) + 1;
  }
  // The reported outcome is the most common answer (ties: the earliest).
  let best = results[0];
  for (const r of results) if ((answers[answerOf(r)] ?? 0) > (best ? (answers[answerOf(best)] ?? 0) : 0)) best = r;
  if (!best) throw new Error('no attempts');
  const retries = results.reduce((n, r) => n + (r.retries ?? 0), 0);
  const agreement: Agreement = {
    attempts: results.length,
    statuses,
    answers,
    agree: Object.keys(answers).length === 1,
  };
  const { retries: _ignored, ...rest } = best;
  return (retries > 0 ? { ...rest, retries, agreement } : { ...rest, agreement }) as R;
}
