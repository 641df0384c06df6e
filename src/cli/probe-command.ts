import { setMaxListeners } from 'node:events';
import { constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { escapeText } from '../codec/escape.js';
import { formatTarget, type Target } from '../codec/target.js';
import { BatchedWriter, type Sink } from './batched-writer.js';
import { scan } from '../probe/scan.js';
import { readTargets, inShard, blockTargets, type InvalidLine } from '../probe/targets.js';
import { filteredLookup } from '../input/family.js';
import { parseBaseline, compareBaseline, baselineKey, type BaselineTarget } from '../report/baseline.js';
import { compareExpected } from '../report/expect.js';
import { type TargetDocument } from '../report/json.js';
import { JsonDocumentWriter } from '../report/json-stream.js';
import { exitCode } from '../verdict/exit-code.js';
import { expectationLines, baselineLines, transcriptText } from '../report/lines.js';
import { EXIT, type Io } from './io.js';
import { UsageError, type Args, type ProbePlan } from './options.js';
import { Progress } from './progress.js';
import { fingerprintDetail, fingerprintLine } from '../fingerprint/render.js';

function useColor(args: Args, io: Io): boolean {
  if (args['color'] === true) return true;
  if (args['color'] === false) return false;
  return Boolean(io.stdout.isTTY) && (io.env['NO_COLOR'] ?? '') === '';
}

/** At most this many skipped target lines are named on stderr; the rest are counted. */
const MAX_INVALID_SHOWN = 10;

async function openTargets(plan: ProbePlan, io: Io): Promise<AsyncIterable<Buffer | string> | null> {
  if (plan.targetsFile === null) return null;
  if (plan.targetsFile === '-') {
    if (!io.stdin) throw new UsageError('--targets -: no standard input');
    return io.stdin;
  }
  try {
    const handle = await open(plan.targetsFile, 'r');
    if ((await handle.stat()).isDirectory()) {
      await handle.close();
      throw Object.assign(new Error('a directory'), { code: 'EISDIR' });
    }
    return handle.createReadStream();
  } catch (err) {
    throw new UsageError(`--targets: cannot read '${plan.targetsFile}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/**
 * How many targets of `file` this run will probe, or null when it cannot be read a second time:
 * a pipe, a FIFO or a terminal hands each line to one reader only, so counting would steal lines
 * from the prober. Opened without blocking (a FIFO's open would wait for a writer) and never read
 * unless fstat says it is a regular file.
 */
async function countTargets(file: string, defaultPort: number, mine: (t: Target) => boolean, signal: AbortSignal): Promise<number | null> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  let regular = false;
  try {
    regular = (await handle.stat()).isFile();
  } finally {
    if (!regular) await handle.close();
  }
  if (!regular) return null;
  let n = 0;
  // The stream closes the handle at its end, or when the loop is left early.
  for await (const target of readTargets(handle.createReadStream(), { defaultPort })) {
    if (signal.aborted) break;
    if (mine(target)) n++;
  }
  return signal.aborted ? null : n;
}

/**
 * A list that fails while being read (EIO, EISDIR from a device, a pipe that breaks) is a problem
 * with the input the user named, not an internal error: a usage error naming the list.
 */
async function* readOrUsage(input: AsyncIterable<Buffer | string>, name: string): AsyncGenerator<Buffer | string> {
  try {
    yield* input;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code ?? (err instanceof Error ? err.message : String(err));
    throw new UsageError(`--targets: cannot read ${name}: ${why}`);
  }
}

/** Destroys a target list still being read: a read from a terminal or a FIFO may never return. */
function closeInput(input: AsyncIterable<Buffer | string>): void {
  const stream = input as Partial<{ destroy(): unknown; destroyed: boolean }>;
  if (typeof stream.destroy === 'function' && !stream.destroyed) stream.destroy();
}

async function loadBaseline(file: string | null, io: Io): Promise<Map<string, BaselineTarget> | null> {
  if (file === null) return null;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--baseline: cannot read '${file}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    return parseBaseline(text, (line) => io.stderr.write(`msnp-probe: --baseline: line ${line} is cut off (a killed run?); compared without it\n`));
  } catch (err) {
    throw new UsageError(`--baseline: '${file}': ${err instanceof Error ? err.message : String(err)}`);
  }
}

export async function runProbes(plan: ProbePlan, args: Args, io: Io): Promise<number> {
  const startedAt = new Date();
  const started = Date.now();
  const baseline = await loadBaseline(plan.baselineFile, io);
  const fileInput = await openTargets(plan, io);
  const blocks = plan.blocks ?? [];
  // Excluded targets are dropped here, before any connection or name lookup.
  const mine = (target: Target): boolean =>
    (!plan.shard || inShard(target, plan.shard)) && !plan.exclude?.excludes(target.host);
  const commandLine = plan.targets.filter(mine);
  const detailed = fileInput === null && blocks.length === 0 && plan.targets.length === 1;
  const showProgress = !detailed && (plan.progress ?? Boolean(io.stderr.isTTY));
  // A block's size after exclusions is not known up front: no total, as for a list.
  const knownTotal = fileInput === null && blocks.length === 0 ? commandLine.length : null;
  const progress = showProgress ? new Progress((t) => io.stderr.write(t), knownTotal) : null;
  const stopCounting = new AbortController();
  if (progress && plan.targetsFile !== null && plan.targetsFile !== '-') {
    // A regular file can be read twice: count it alongside the probing, for the ETA.
    countTargets(plan.targetsFile, plan.defaultPort, mine, stopCounting.signal).then(
      (n) => n !== null && progress.setTotal(commandLine.length + n),
      () => undefined,
    );
  }
  // Ctrl-C or SIGTERM stops the probes (their sockets close) and keeps what finished; output that
  // cannot be written stops them too, since nobody would see the rest.
  const stop = new AbortController();
  // Every connection in flight listens to it: many more than Node's leak warning expects.
  setMaxListeners(0, stop.signal);
  const outputLost = new AbortController();
  let interrupted: 'SIGINT' | 'SIGTERM' | null = null;
  const stopListening = io.onInterrupt?.((signal) => {
    interrupted ??= signal;
    stop.abort(new Error(`interrupted by ${signal}`));
  });
  const stopWatching = io.output?.onError((code) => {
    outputLost.abort(new Error(`cannot write output: ${code}`));
    stop.abort(outputLost.signal.reason);
  });
  if (fileInput) stop.signal.addEventListener('abort', () => closeInput(fileInput), { once: true });
  /** Text for stderr while the progress line may be on screen. */
  const note = (text: string): void => {
    if (progress) progress.around(() => io.stderr.write(text));
    else io.stderr.write(text);
  };
  let invalid = 0;
  const onInvalid = (bad: InvalidLine): void => {
    invalid++;
    if (invalid <= MAX_INVALID_SHOWN) note(`msnp-probe: --targets line ${bad.line}: ${escapeText(bad.message)} (skipped)\n`);
  };
  async function* source(): AsyncGenerator<Target> {
    yield* commandLine;
    for (const block of blocks) for (const target of blockTargets(block, plan.exclude)) if (mine(target)) yield target;
    if (!fileInput) return;
    const listName = plan.targetsFile === '-' ? 'standard input' : `'${plan.targetsFile ?? ''}'`;
    const read = readOrUsage(fileInput, listName);
    const options = { defaultPort: plan.defaultPort, onInvalid, exclude: plan.exclude ?? null };
    const lines = readTargets(read, options)[Symbol.asyncIterator]();
    // A stop must not wait for the next line: from a terminal or a quiet pipe it may never come.
    const stopped = new Promise<never>((_, reject) => {
      stop.signal.addEventListener('abort', () => reject(stop.signal.reason), { once: true });
    });
    stopped.catch(() => undefined);
    let finished = false;
    try {
      for (;;) {
        const next = await Promise.race([lines.next(), stopped]);
        if (next.done) {
          finished = true;
          return;
        }
        if (mine(next.value)) yield next.value;
      }
    } finally {
      // After a stop the list was destroyed; a pending read would keep return() waiting.
      if (!finished && !stop.signal.aborted) await lines.return?.(undefined);
    }
  }
  const color = useColor(args, io);
  // The table modules (cli-table3 and its width tables) load only when a table is printed.
  const text = plan.output === 'table' && detailed ? await import('../report/text.js') : null;
  const matrixModule = plan.output === 'table' && !detailed ? await import('../report/matrix.js') : null;
  const matrix = matrixModule ? new matrixModule.MatrixPrinter(plan.versions, color, plan.fingerprint) : null;
  // Rows for a terminal that also shows the progress line: take the line away while writing.
  const sink: Sink = io.stdout;
  const out = new BatchedWriter(
    progress && io.stdout.isTTY
      ? { write: (t) => progress.around(() => sink.write(t)), once: (event, listener) => sink.once?.(event, listener) }
      : sink,
    outputLost.signal,
  );
  const json = plan.output === 'json' ? new JsonDocumentWriter((t) => out.write(t), startedAt) : null;
  /** Set once scan() has returned: a worker still winding down after a stop must not add to ended output. */
  let ended = false;
  // The matrix header waits for the first row: a list with no usable line prints nothing on stdout.
  let headerDone = false;

  let total = 0;
  let silent = 0;
  let failed = 0;
  /** Probes this machine could not make (out of descriptors or ports), by errno: not the server's doing. */
  const local = new Map<string, number>();
  const problems: string[] = [];
  const scanning = scan(
    source(),
    {
      signal: stop.signal,
      versions: plan.versions,
      timeoutMs: plan.timeoutMs,
      concurrency: plan.concurrency,
      globalConcurrency: plan.globalConcurrency,
      offer: plan.offer,
      ratePerSecond: plan.ratePerSecond,
      retries: plan.retries,
      attempts: plan.attempts,
      deep: plan.deep,
      follow: plan.follow,
      followAny: plan.followAny,
      followMax: plan.followMax,
      transcript: plan.transcript,
      transport: plan.transport,
      ...(plan.gatewayNsHost !== undefined ? { gatewayNsHost: plan.gatewayNsHost } : {}),
      ...(plan.handle !== undefined ? { handle: plan.handle } : {}),
      ...(plan.fingerprint ? { fingerprint: true } : {}),
      ...(plan.family !== undefined || plan.exclude ? { lookup: filteredLookup(plan) } : {}),
    },
    async (report, index) => {
      if (ended) return;
      const doc: TargetDocument = { ...report };
      if (plan.expect) doc.expectation = compareExpected(plan.expect, report.accepted);
      if (baseline) doc.baseline = compareBaseline(report, baseline.get(baselineKey(report.host, report.port)));
      total++;
      let localHere = 0;
      for (const p of [...report.probes, ...(report.offer ? [report.offer] : [])]) {
        if (p.status === 'unreachable' && p.reason === 'local') {
          localHere++;
          local.set(p.errno, (local.get(p.errno) ?? 0) + 1);
        }
      }
      if (!report.answered && localHere === 0) silent++;
      const lines = [
        ...(doc.expectation && !doc.expectation.met ? expectationLines(doc.expectation) : []),
        // A single target's table already shows a met baseline's notes under it.
        ...(doc.baseline && !(text && doc.baseline.met) ? baselineLines(doc.baseline) : []),
      ];
      if ((doc.expectation && !doc.expectation.met) || (doc.baseline && !doc.baseline.met)) failed++;
      if (lines.length) problems.push(`${escapeText(formatTarget(report))}:\n${lines.map((l) => `  ${l}`).join('\n')}`);
      progress?.done(report.probes.length + (report.offer ? 1 : 0));
      if (plan.verbose) note(transcriptText(report));
      if (plan.verbose && report.fingerprint) {
        note(`${[fingerprintLine(report.fingerprint), ...fingerprintDetail(report.fingerprint)].join('\n')}\n`);
      }
      switch (plan.output) {
        case 'ndjson':
          await out.write(`${JSON.stringify(doc)}\n`);
          break;
        case 'json':
          await json?.add(index, doc);
          break;
        case 'table':
          if (matrix) {
            if (!headerDone) {
              headerDone = true;
              await out.write(matrix.header());
            }
            await out.write(matrix.row(report));
          } else if (text) {
            io.stdout.write(text.renderTarget(report, { color }));
            if (doc.expectation?.met) io.stdout.write(`${expectationLines(doc.expectation).join('\n')}\n`);
            if (doc.baseline?.met) io.stdout.write(`${baselineLines(doc.baseline).join('\n') || 'baseline: no difference'}\n`);
          }
          break;
      }
    },
  );
  try {
    try {
      await scanning;
    } catch (err) {
      // A stop rejects the scan with its reason; anything else is a real failure.
      if (!stop.signal.aborted) throw err;
    }
    ended = true;
    stopCounting.abort();
    if (fileInput && stop.signal.aborted) closeInput(fileInput);
    const writable = (): boolean => !outputLost.signal.aborted;
    // Nothing to probe because every line of the list was invalid: a usage error, and stdout stays empty.
    const unusable = total === 0 && fileInput !== null && invalid > 0 && interrupted === null;
    if (json && !unusable) await json.end(Date.now() - started, interrupted !== null);
    await out.flush();
    progress?.finish();
    if (matrixModule && total > 0 && writable()) {
      io.stdout.write(`${matrixModule.MATRIX_LEGEND}\n${total} target${total === 1 ? '' : 's'}, ${total - silent} answered as MSNP\n`);
    }
    // Differences go to stdout under a table, to stderr when stdout carries JSON for a script.
    const report = plan.output === 'table' ? io.stdout : io.stderr;
    if (plan.output !== 'table' || writable()) for (const p of problems) report.write(`${p}\n`);
    if (invalid > MAX_INVALID_SHOWN) io.stderr.write(`msnp-probe: --targets: ${invalid} lines skipped in all\n`);
    if (interrupted !== null) {
      io.stderr.write(`msnp-probe: interrupted by ${interrupted}; ${total} target${total === 1 ? '' : 's'} finished\n`);
    } else if (unusable) {
      io.stderr.write('msnp-probe: --targets: no valid target in the list\n');
      return EXIT.usage;
    } else if (total === 0 && !outputLost.signal.aborted) {
      const check = plan.expect ? '--expect' : baseline ? '--baseline' : null;
      io.stderr.write(`msnp-probe: no targets to probe (empty list or empty shard)${check ? `: ${check} cannot pass` : ''}\n`);
    }
    const localProbes = [...local.values()].reduce((a, b) => a + b, 0);
    if (localProbes > 0) {
      const why = [...local.keys()].map(escapeText).join(', ');
      io.stderr.write(
        `msnp-probe: ${localProbes} probe${localProbes === 1 ? '' : 's'} could not be made: this machine ran out of ` +
          `file descriptors or ports (${why}); their results are unknown, not the server's answer ` +
          '(lower --concurrency/--global-concurrency or raise ulimit -n)\n',
      );
    }
    await io.settle?.();
    return exitCode({
      localErrors: localProbes,
      targets: total,
      silent,
      failedChecks: failed,
      checked: Boolean(plan.expect) || baseline !== null,
      interrupted,
      writeError: io.output?.error ?? null,
    });
  } finally {
    stopListening?.();
    stopWatching?.();
  }
}
