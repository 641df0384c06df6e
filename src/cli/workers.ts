/**
 * `--workers N`: a target list spread over N probing threads, each running its own scan(). The main
 * thread reads the list, hands each target to the thread that owns its server, and gets the
 * reports back for judging and output, which stay on the main thread (input order for JSON,
 * exit codes, interrupted output and write errors behave as with one thread).
 *
 * - The main thread is one of the N: it probes its own share of the servers next to reading the list
 *   and writing the output, and N-1 worker threads probe the rest. What a second probing thread costs
 *   is mostly a second V8 isolate's own warm-up (the hot code compiled and optimised again on V8's
 *   helper threads, a second heap and its collections), the same whether it is a thread or a process;
 *   the kernel's share per connection does not change. The main thread's reading and output take a
 *   few percent of a core, so N worker threads beside it cost the same CPU and about 15 MB more.
 *
 * - Each server (its host, normalised as the list's deduplication normalises it, and port) belongs
 *   to one worker, so every entry of one server is probed on one thread. Two spellings of one IP
 *   address (`::1`, `0:0::1`; `127.1`, `127.0.0.1`) and names in any case are one server; a name and
 *   the address it resolves to are not known to be one until resolved, and may land on two workers.
 * - `--global-concurrency` is divided: thread i of n gets floor(G/n), one more for the first G mod n,
 *   so the sum is exactly G. There are never more threads than G.
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

/**
 * The targets handed to one probing thread, as its scan() pulls them: filled from messages in a
 * worker thread, directly on the main thread.
 */
class TargetQueue {
  readonly stop = new AbortController();
  readonly #queue: { target: Target; index: number }[] = [];
  readonly #indexOf = new WeakMap<Target, number>();
  #ended = false;
  #wake: (() => void) | null = null;

  constructor() {
    setMaxListeners(0, this.stop.signal);
  }

  push(m: ToWorker): void {
    if (m.type === 'target') this.#queue.push({ target: m.target, index: m.index });
    else if (m.type === 'end') this.#ended = true;
    else this.stop.abort(new Error(m.reason));
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  /** The run's index of a target this queue gave out. */
  indexOf(target: Target): number {
    return this.#indexOf.get(target) ?? -1;
  }

  /** Yields the targets as they come until `end` or `stop`; `took` is called as each is taken. */
  async *source(took: () => void): AsyncGenerator<Target> {
    for (;;) {
      const next = this.#queue.shift();
      if (next) {
        took();
        this.#indexOf.set(next.target, next.index);
        yield next.target;
      } else if (this.#ended || this.stop.signal.aborted) {
        return;
      } else {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
      }
    }
  }
}

/** One probing thread as the main thread's reading loop sees it: a window of targets handed over. */
abstract class Lane {
  /** Targets handed over and not yet taken by the thread's scan. */
  queued = 0;
  finished = false;
  #roomWaiter: (() => void) | null = null;

  constructor(readonly window: number) {}

  abstract post(message: ToWorker): void;

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

class ThreadLane extends Lane {
  readonly worker: Worker;

  constructor(init: WorkerInit, window: number) {
    super(window);
    this.worker = new Worker(new URL(import.meta.url), { workerData: init });
  }

  post(message: ToWorker): void {
    if (!this.finished) this.worker.postMessage(message);
  }
}

/** The main thread's own share: its scan() runs here, its reports need no copy. */
class LocalLane extends Lane {
  readonly queue = new TargetQueue();

  post(message: ToWorker): void {
    if (!this.finished) this.queue.push(message);
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
  const lanes: (Lane | undefined)[] = new Array(count);
  let failure: Error | null = null;
  /** Settles when every started lane has finished, or at the first failure. */
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
    for (const t of lanes) t?.post({ type: 'stop', reason: err.message });
    for (const t of lanes) t?.wake();
    outputWaiter?.();
    fail(err);
  };
  const checkDone = (): void => {
    if (!reading && lanes.every((t) => t === undefined || t.finished)) allDone();
  };
  /** A report, from whichever thread, joins the one output chain: the output sees one report at a time. */
  const deliver = (report: TargetReport, index: number, target: Target): void => {
    pendingReports++;
    output = output.then(async () => {
      try {
        if (!failure) await onReport(report, index, target);
      } catch (err) {
        failWith(err instanceof Error ? err : new Error(String(err)));
      } finally {
        pendingReports--;
        outputWaiter?.();
      }
    });
  };
  /** Lane 0 is the main thread's own scan; lanes 1..n-1 are worker threads. */
  const start = (i: number): Lane => {
    const share = Math.floor(global / count) + (i < global % count ? 1 : 0);
    // --max-rate is divided as --global-concurrency is, so the threads together keep to it.
    const rate = maxRate === undefined ? undefined : (maxRate * share) / global;
    const window = TARGETS_PER_SLOT * share + 1;
    const lane = i === 0 ? startLocal(share, rate, window) : startThread(i, share, rate, window);
    lanes[i] = lane;
    return lane;
  };
  const startLocal = (share: number, rate: number | undefined, window: number): Lane => {
    const lane = new LocalLane(window);
    const { queue } = lane;
    // Its own budget and start rate, as a worker's: the run's whole --max-rate is the sum of the shares.
    const { rateLimiter: _rl, maxRate: _whole, signal: _sig, ...base } = options;
    const local: ScanOptions = {
      ...base,
      ...(rate === undefined ? {} : { maxRate: rate }),
      globalConcurrency: share,
      signal: queue.stop.signal,
    };
    const settle = (err?: unknown): void => {
      lane.finished = true;
      if (err !== undefined && !queue.stop.signal.aborted)
        failWith(err instanceof Error ? err : new Error(String(err)));
      else void output.then(checkDone);
    };
    scan(
      queue.source(() => lane.took()),
      local,
      (report, _local, target) => deliver(report, queue.indexOf(target), target),
    ).then(
      () => settle(),
      (err: unknown) => settle(err ?? new Error('stopped')),
    );
    return lane;
  };
  const startThread = (i: number, share: number, rate: number | undefined, window: number): Lane => {
    const init: WorkerInit = { [WORKER_TAG]: true, plan: rest, globalConcurrency: share, maxRate: rate };
    const thread = new ThreadLane(init, window);
    thread.worker.on('message', (m: FromWorker) => {
      if (m.type === 'took') thread.took();
      else if (m.type === 'report') deliver(m.report, m.index, m.target);
      else if (m.type === 'done') {
        thread.finished = true;
        // Its reports were posted before `done`: they are queued on `output` already.
        void output.then(checkDone);
      } else {
        const err = m.code?.startsWith('ERR_')
          ? msnpError(m.code as MsnpErrorCode, m.message)
          : new Error(`worker thread ${i} failed: ${m.message}`);
        failWith(err);
      }
    });
    thread.worker.on('error', (err) => failWith(new Error(`worker thread ${i} failed: ${err.message}`)));
    thread.worker.on('exit', (code) => {
      if (thread.finished) return;
      thread.finished = true;
      if (!signal?.aborted) failWith(new Error(`worker thread ${i} stopped unexpectedly (exit code ${code})`));
      else void output.then(checkDone);
    });
    return thread;
  };

  const onAbort = (): void => {
    for (const t of lanes) t?.post({ type: 'stop', reason: String((signal?.reason as Error)?.message ?? 'stopped') });
    for (const t of lanes) t?.wake();
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
      const lane = lanes[i] ?? start(i);
      while (lane.queued >= lane.window && !signal?.aborted && !failure && !lane.finished) await lane.room();
      if (signal?.aborted || failure) break;
      lane.queued++;
      lane.post({ type: 'target', target: { host: target.host, port: target.port }, index: index++ });
    }
  } catch (err) {
    if (!signal?.aborted) failWith(err instanceof Error ? err : new Error(String(err)));
  } finally {
    reading = false;
    for (const t of lanes) t?.post({ type: 'end' });
    checkDone();
    const closing = Promise.resolve(iterator.return?.()).catch(() => undefined);
    if (!signal?.aborted) await closing;
  }
  try {
    if (signal?.aborted) {
      // The threads close their sockets on `stop`; a worker that does not within the grace is cut off.
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
    await Promise.all(lanes.map((t) => (t instanceof ThreadLane ? t.worker.terminate() : undefined)));
  }
}

/** The worker's side: targets in from the main thread, reports out, one scan() over them. */
async function workerMain(init: WorkerInit): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const queue = new TargetQueue();
  port.on('message', (m: ToWorker) => queue.push(m));
  // A structured clone keeps the filter's data but not its class: give it back its methods.
  const exclude = init.plan.exclude ? Object.setPrototypeOf(init.plan.exclude, AddressFilter.prototype) : null;
  const plan = { ...init.plan, exclude, targets: [], blocks: [] } as ProbePlan;
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
      signal: queue.stop.signal,
    };
    const took = (): void => port.postMessage({ type: 'took' } satisfies FromWorker);
    await scan(queue.source(took), options, (report, _local, target) => {
      port.postMessage({ type: 'report', report, index: queue.indexOf(target), target } satisfies FromWorker);
    });
    port.postMessage({ type: 'done' } satisfies FromWorker);
  } catch (err) {
    if (queue.stop.signal.aborted) port.postMessage({ type: 'done' } satisfies FromWorker);
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
