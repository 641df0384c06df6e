import pLimit from 'p-limit';
import type { Target } from '../codec/target.js';
import { probe, type ProbeOptions, type TargetReport } from './probe.js';
import { probeFollowing } from './follow.js';

export const DEFAULT_GLOBAL_CONCURRENCY = 64;

export interface ScanOptions extends Omit<ProbeOptions, 'host' | 'port' | 'gate'> {
  /** Connections in flight across all targets. */
  globalConcurrency?: number;
  /** Probe the notification servers that dispatch answers name (implies `deep`). */
  follow?: boolean;
}

/**
 * Probes many targets, pulling them from `targets` only as capacity frees up (so a streamed list
 * is never held in memory) and handing each report to `onReport` as soon as it is complete.
 * Connections are bounded twice: per target (`concurrency`) and overall (`globalConcurrency`).
 */
export async function scan(
  targets: AsyncIterable<Target> | Iterable<Target>,
  options: ScanOptions,
  onReport: (report: TargetReport, target: Target) => void | Promise<void>,
): Promise<void> {
  const globalConcurrency = options.globalConcurrency ?? DEFAULT_GLOBAL_CONCURRENCY;
  const gate = pLimit(globalConcurrency);
  const iterator = (Symbol.asyncIterator in targets ? targets[Symbol.asyncIterator]() : targets[Symbol.iterator]()) as
    | AsyncIterator<Target>
    | Iterator<Target>;
  // Pulls are serialised: an async generator must not be asked for its next value twice at once.
  const pull = pLimit(1);
  const next = (): Promise<IteratorResult<Target>> => pull(async () => iterator.next());
  const { globalConcurrency: _g, follow, ...probeOptions } = options;
  // A target holds at least one connection while it runs, so more targets than connections would only queue.
  const workers = Array.from({ length: globalConcurrency }, async () => {
    for (;;) {
      options.signal?.throwIfAborted();
      const item = await next();
      if (item.done) return;
      const one = { ...probeOptions, host: item.value.host, port: item.value.port, gate };
      const reports = follow ? await probeFollowing(one) : [await probe(one)];
      for (const report of reports) await onReport(report, item.value);
    }
  });
  try {
    await Promise.all(workers);
  } finally {
    await iterator.return?.();
  }
}
