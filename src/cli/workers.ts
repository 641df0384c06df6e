/**
 * `--workers N`: a target list spread over worker threads, each running its own scan(). The main
 * thread reads the list, hands each target to the worker that owns its server, and gets the
 * reports back for judging and output, which stay on the main thread (input order for JSON,
 * exit codes, interrupted output and write errors behave as with one thread).
 *
 * - Each server (its host, normalised as the list's deduplication normalises it, and port) belongs
 *   to one worker, so every entry of one server is probed on one thread. Two spellings of one IP
 *   address (`::1`, `0:0::1`; `127.1`, `127.0.0.1`) and names in any case are one server; a name and
 *   the address it resolves to are not known to be one until resolved, and may land on two workers.
 * - `--global-concurrency` is divided: worker i of n gets floor(G/n), one more for the first G mod n,
 *   so the sum is exactly G. There are never more workers than G.
 * - Workers start only for a target list or a block (`--targets`, a CIDR block), and each only when
 *   its first target comes: a probe of targets named on the command line runs on the main thread.
 */
import { setMaxListeners } from 'node:events';
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Target } from '../input/target.js';
import { AddressFilter, normalizeHost } from '../input/address.js';
import { msnpError, type MsnpErrorCode } from '../core/errors.js';
import { OPTION_LIMITS } from '../core/limits.js';
import { scan, type ScanOptions } from '../probe/scan.js';
import { untilAborted } from '../probe/pacer.js';
import type { TargetReport } from '../probe/probe.js';
import { scanWithFilters, type ProbePlan } from './options.js';

/** What runProbes calls: scan()'s signature, whichever thread does the probing. */
export type Scanner = (
  targets: AsyncIterable<Target> | Iterable<Target>,
  options: ScanOptions,
  onReport: (report: TargetReport, index: number, target: Target) => void | Promise<void>,
) => Promise<void>;

/** The default of `--workers`: one per core the process may use. */
export const defaultWorkers = (): number => availableParallelism();

/** Marks a thread started by this module, so loading the bundle in it starts a worker and nothing else. */
const WORKER_TAG = 'msnpProbeWorker';
/** Targets handed to a worker and not yet taken by its scan, per connection slot it has. */
const TARGETS_PER_SLOT = 2;
/** Reports waiting for the output before the main thread stops handing out targets. */
const MAX_PENDING_REPORTS = 256;
/** After a stop, how long a worker gets to close its sockets before it is terminated. */
const STOP_GRACE_MS = 2000;

type ToWorker = { type: 'target'; target: Target; index: number } | { type: 'end' } | { type: 'stop'; reason: string };
type FromWorker =
  | { type: 'took' }
  | { type: 'report'; report: TargetReport; index: number; target: Target }
  | { type: 'done' }
  | { type: 'failed'; message: string; code: string | undefined };

interface WorkerInit {
  [WORKER_TAG]: true;
  plan: Omit<ProbePlan, 'targets' | 'blocks' | 'exclude'> & { exclude?: unknown };
  globalConcurrency: number;
  /** This worker's share of --max-rate; undefined: no limit. */
  maxRate: number | undefined;
}

/** The key of a target's server: every spelling of one server gives one key. */
export function serverKey(target: Target): string {
  return `${normalizeHost(target.host)}|${target.port}`;
}

/** Which of `count` workers owns a server: a stable string hash (FNV-1a) of its key. */
export function workerFor(target: Target, count: number): number {
  const key = serverKey(target);
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % count;
}

/**
 * The scan for this plan: scan() itself for one worker or for targets named on the command line,
 * else the same work spread over up to `plan.workers` threads.
 */
export function scannerFor(plan: ProbePlan): Scanner {
  const wanted = Math.min(plan.workers ?? defaultWorkers(), plan.scan.globalConcurrency);
  const listed = plan.targetsFile !== null || (plan.blocks?.length ?? 0) > 0;
  // Each thread's share of --max-rate must stay a rate the limiter accepts; so slow a run gains nothing from threads.
  const { maxRate, globalConcurrency } = plan.scan;
  const share = Math.floor(globalConcurrency / Math.max(1, wanted));
  const tooSlow = maxRate !== undefined && (maxRate * share) / globalConcurrency < OPTION_LIMITS.maxRate.min;
  if (wanted <= 1 || !listed || tooSlow) return scan;
  return (targets, options, onReport) => scanInWorkers(plan, wanted, targets, options, onReport);
}

class Thread {
  readonly worker: Worker;
  /** Targets handed over and not yet taken by the worker's scan. */
  queued = 0;
  finished = false;
  #roomWaiter: (() => void) | null = null;

  constructor(
    init: WorkerInit,
    readonly window: number,
  ) {
    this.worker = new Worker(new URL(import.meta.url), { workerData: init });
  }

  post(message: ToWorker): void {
    if (!this.finished) this.worker.postMessage(message);
  }

  took(): void {
    this.queued--;
    this.wake();
  }

  wake(): void {
    const waiter = this.#roomWaiter;
    this.#roomWaiter = null;
    waiter?.();
  }

  room(): Promise<void> {
    return new Promise((resolve) => {
      this.#roomWaiter = resolve;
    });
  }
}

async function scanInWorkers(
  plan: ProbePlan,
  count: number,
  targets: AsyncIterable<Target> | Iterable<Target>,
  options: ScanOptions,
  onReport: (report: TargetReport, index: number, target: Target) => void | Promise<void>,
): Promise<void> {
  const signal = options.signal;
  const global = options.globalConcurrency ?? plan.scan.globalConcurrency;
  const maxRate = options.maxRate ?? plan.scan.maxRate;
  // Functions (lookup filters, signals) do not cross to a thread: the worker rebuilds them from the plan.
  const { lookup: _l, exclude: _e, signal: _s, rateLimiter: _r, budgets: _bu, ...scanData } = plan.scan;
  const { targets: _t, blocks: _b, ...planData } = plan;
  const rest = { ...planData, scan: scanData as ProbePlan['scan'] };
  const threads: (Thread | undefined)[] = new Array(count);
  let failure: Error | null = null;
  /** Settles when every started worker has finished, or at the first failure. */
  let allDone: () => void = () => undefined;
  let fail: (err: Error) => void = () => undefined;
  const finished = new Promise<void>((resolve, reject) => {
    allDone = resolve;
    fail = reject;
  });
  finished.catch(() => undefined);
  let reading = true;
  let pendingReports = 0;
  let output: Promise<void> = Promise.resolve();
  let outputWaiter: (() => void) | null = null;

  const failWith = (err: Error): void => {
    if (failure) return;
    failure = err;
    for (const t of threads) t?.post({ type: 'stop', reason: err.message });
    for (const t of threads) t?.wake();
    outputWaiter?.();
    fail(err);
  };
  const checkDone = (): void => {
    if (!reading && threads.every((t) => t === undefined || t.finished)) allDone();
  };
  const start = (i: number): Thread => {
    const share = Math.floor(global / count) + (i < global % count ? 1 : 0);
    // --max-rate is divided as --global-concurrency is, so the threads together keep to it.
    const rate = maxRate === undefined ? undefined : (maxRate * share) / global;
    const init: WorkerInit = { [WORKER_TAG]: true, plan: rest, globalConcurrency: share, maxRate: rate };
    const thread = new Thread(init, TARGETS_PER_SLOT * share + 1);
    thread.worker.on('message', (m: FromWorker) => {
      if (m.type === 'took') thread.took();
      else if (m.type === 'report') {
        pendingReports++;
        output = output.then(async () => {
          try {
            if (!failure) await onReport(m.report, m.index, m.target);
          } catch (err) {
            failWith(err instanceof Error ? err : new Error(String(err)));
          } finally {
            pendingReports--;
            outputWaiter?.();
          }
        });
      } else if (m.type === 'done') {
        thread.finished = true;
        // Its reports were posted before `done`: they are queued on `output` already.
        void output.then(checkDone);
      } else {
        const err = m.code?.startsWith('ERR_')
          ? msnpError(m.code as MsnpErrorCode, m.message)
          : new Error(`worker thread ${i + 1} failed: ${m.message}`);
        failWith(err);
      }
    });
    thread.worker.on('error', (err) => failWith(new Error(`worker thread ${i + 1} failed: ${err.message}`)));
    thread.worker.on('exit', (code) => {
      if (thread.finished) return;
      thread.finished = true;
      if (!signal?.aborted) failWith(new Error(`worker thread ${i + 1} stopped unexpectedly (exit code ${code})`));
      else void output.then(checkDone);
    });
    threads[i] = thread;
    return thread;
  };

  const onAbort = (): void => {
    for (const t of threads) t?.post({ type: 'stop', reason: String((signal?.reason as Error)?.message ?? 'stopped') });
    for (const t of threads) t?.wake();
    outputWaiter?.();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const iterator = (Symbol.asyncIterator in targets ? targets[Symbol.asyncIterator]() : targets[Symbol.iterator]()) as
    | AsyncIterator<Target>
    | Iterator<Target>;
  try {
    let index = 0;
    for (;;) {
      if (signal?.aborted || failure) break;
      // The output sets the pace, as with one thread: reports it has not taken hold back the list.
      while (pendingReports >= MAX_PENDING_REPORTS && !signal?.aborted && !failure) {
        await new Promise<void>((resolve) => {
          outputWaiter = resolve;
        });
        outputWaiter = null;
      }
      const item = await untilAborted(Promise.resolve(iterator.next()), signal);
      if (item.done) break;
      const target = item.value;
      const i = workerFor(target, count);
      const thread = threads[i] ?? start(i);
      while (thread.queued >= thread.window && !signal?.aborted && !failure && !thread.finished) await thread.room();
      if (signal?.aborted || failure) break;
      thread.queued++;
      thread.post({ type: 'target', target: { host: target.host, port: target.port }, index: index++ });
    }
  } catch (err) {
    if (!signal?.aborted) failWith(err instanceof Error ? err : new Error(String(err)));
  } finally {
    reading = false;
    for (const t of threads) t?.post({ type: 'end' });
    checkDone();
    const closing = Promise.resolve(iterator.return?.()).catch(() => undefined);
    if (!signal?.aborted) await closing;
  }
  try {
    if (signal?.aborted) {
      // The workers close their sockets on `stop`; one that does not within the grace is cut off.
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([
        finished.catch(() => undefined),
        new Promise((resolve) => {
          grace = setTimeout(resolve, STOP_GRACE_MS);
        }),
      ]);
      clearTimeout(grace);
      throw signal.reason;
    }
    await finished;
    await output;
    if (failure) throw failure;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await Promise.all(threads.map((t) => t?.worker.terminate()));
  }
}

/** The worker's side: targets in from the main thread, reports out, one scan() over them. */
async function workerMain(init: WorkerInit): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  const queue: { target: Target; index: number }[] = [];
  let ended = false;
  let wake: (() => void) | null = null;
  port.on('message', (m: ToWorker) => {
    if (m.type === 'target') queue.push({ target: m.target, index: m.index });
    else if (m.type === 'end') ended = true;
    else stop.abort(new Error(m.reason));
    const w = wake;
    wake = null;
    w?.();
  });
  // A structured clone keeps the filter's data but not its class: give it back its methods.
  const exclude = init.plan.exclude ? Object.setPrototypeOf(init.plan.exclude, AddressFilter.prototype) : null;
  const plan = { ...init.plan, exclude, targets: [], blocks: [] } as ProbePlan;
  const indexOf = new WeakMap<Target, number>();
  async function* source(): AsyncGenerator<Target> {
    for (;;) {
      const next = queue.shift();
      if (next) {
        port?.postMessage({ type: 'took' } satisfies FromWorker);
        indexOf.set(next.target, next.index);
        yield next.target;
      } else if (ended || stop.signal.aborted) {
        return;
      } else {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    }
  }
  try {
    if (process.env['MSNP_PROBE_TEST_WORKER_CRASH'] === '1') {
      // Fault injection for the tests: an uncaught error in the thread, as a bug would throw.
      setImmediate(() => {
        throw new Error('injected worker crash');
      });
    }
    const { maxRate: _whole, ...filtered } = scanWithFilters(plan);
    const options: ScanOptions = {
      ...filtered,
      ...(init.maxRate === undefined ? {} : { maxRate: init.maxRate }),
      globalConcurrency: init.globalConcurrency,
      signal: stop.signal,
    };
    await scan(source(), options, (report, _local, target) => {
      const index = indexOf.get(target) ?? -1;
      port.postMessage({ type: 'report', report, index, target } satisfies FromWorker);
    });
    port.postMessage({ type: 'done' } satisfies FromWorker);
  } catch (err) {
    if (stop.signal.aborted) port.postMessage({ type: 'done' } satisfies FromWorker);
    else {
      const code = (err as { code?: unknown })?.code;
      const message = err instanceof Error ? err.message : String(err);
      port.postMessage({ type: 'failed', message, code: typeof code === 'string' ? code : undefined });
    }
  }
  port.close();
}

if (!isMainThread && (workerData as Partial<WorkerInit> | null)?.[WORKER_TAG] === true) {
  void workerMain(workerData as WorkerInit);
}
