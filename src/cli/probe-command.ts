import { setMaxListeners } from 'node:events';
import { escapeText } from '../core/escape.js';
import { formatTarget, type Target } from '../input/target.js';
import { BatchedWriter, type Sink } from './output/batched-writer.js';
import { scannerFor } from './workers.js';
import { inShard, type InvalidLine } from '../probe/targets.js';
import { closeInput, countTargets, loadBaseline, MAX_INVALID_SHOWN, openTargets, targetSource } from './inputs.js';
import { FORMATS } from '../report/formats/registry.js';
import type { Reporter } from '../report/formats/reporter.js';
import { openOutputFiles } from './output/output-files.js';
import { exitCode } from '../verdict/exit-code.js';
import { judge, Tally, type Checks } from '../verdict/judge.js';
import { expectationLines, baselineLines, transcriptText } from '../report/render/lines.js';
import { EXIT, type Io } from './io.js';
import { scanOptionsOf, type Args, type ProbePlan } from './options.js';
import { Progress } from './output/progress.js';
import { fingerprintDetail, fingerprintLine } from '../probe/fingerprint/render.js';

function useColor(args: Args, io: Io): boolean {
  if (args['color'] === true) return true;
  if (args['color'] === false) return false;
  return Boolean(io.stdout.isTTY) && (io.env['NO_COLOR'] ?? '') === '';
}

export async function runProbes(plan: ProbePlan, args: Args, io: Io): Promise<number> {
  const startedAt = new Date();
  const started = Date.now();
  const baseline = await loadBaseline(plan.baselineFile, io);
  const fileInput = await openTargets(plan, io);
  // Ctrl-C or SIGTERM stops the probes (their sockets close) and keeps what finished; output that
  // cannot be written stops them too, since nobody would see the rest.
  const stop = new AbortController();
  // Every connection in flight listens to it: many more than Node's leak warning expects.
  setMaxListeners(0, stop.signal);
  const outputLost = new AbortController();
  /** The first output file that could not be written (standard output has its own watch, in io). */
  const lostFile: { file: string; code: string }[] = [];
  const files = await openOutputFiles(plan.outputFiles, (file, code) => {
    lostFile.push({ file, code });
    outputLost.abort(new Error(`cannot write '${file}': ${code}`));
    stop.abort(outputLost.signal.reason);
  }).catch((err: unknown) => {
    // No probe will read the list: a FIFO or terminal left open would keep the process alive.
    if (fileInput) closeInput(fileInput);
    throw err;
  });
  const blocks = plan.blocks ?? [];
  // Excluded targets are dropped here, before any connection or name lookup.
  const mine = (target: Target): boolean =>
    (!plan.shard || inShard(target, plan.shard)) && !plan.exclude?.excludes(target.host);
  const commandLine = plan.targets.filter(mine);
  const detailed = fileInput === null && blocks.length === 0 && plan.targets.length === 1;
  const detailedTable = detailed && plan.output === 'table';
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
    if (invalid > MAX_INVALID_SHOWN) return;
    note(`msnp-probe: --targets line ${bad.line}: ${escapeText(bad.message)} (skipped)\n`);
  };
  const color = useColor(args, io);
  // Rows for a terminal that also shows the progress line: take the line away while writing.
  const sink: Sink = io.stdout;
  const out = new BatchedWriter(
    progress && io.stdout.isTTY
      ? { write: (t) => progress.around(() => sink.write(t)), once: (event, listener) => sink.once?.(event, listener) }
      : sink,
    outputLost.signal,
  );
  const context = { versions: plan.versions, fingerprint: plan.fingerprint, detailed, startedAt };
  const reporters: Reporter[] = [await FORMATS[plan.output]({ ...context, color, write: (t) => out.write(t) })];
  const fileWriters = files.map((f) => new BatchedWriter(f.sink, outputLost.signal));
  for (const [i, f] of files.entries()) {
    const writer = fileWriters[i] as BatchedWriter;
    reporters.push(await FORMATS[f.format]({ ...context, color: false, write: (t) => writer.write(t) }));
  }
  /** Set once scan() has returned: a worker still winding down after a stop must not add to ended output. */
  let ended = false;

  const checks: Checks = { expect: plan.expect, baseline };
  const tally = new Tally();
  const problems: string[] = [];
  const scanning = scannerFor(plan)(
    targetSource({
      commandLine,
      blocks,
      exclude: plan.exclude ?? null,
      fileInput,
      listName: plan.targetsFile === '-' ? 'standard input' : `'${plan.targetsFile ?? ''}'`,
      defaultPort: plan.defaultPort,
      mine,
      onInvalid,
      signal: stop.signal,
    }),
    { ...scanOptionsOf(plan), signal: stop.signal },
    async (report, index) => {
      if (ended) return;
      const judged = judge(report, checks);
      const doc = judged.doc;
      tally.add(judged);
      const lines = [
        ...(doc.expectation && !doc.expectation.met ? expectationLines(doc.expectation) : []),
        // A single target's table already shows a met baseline's notes under it.
        ...(doc.baseline && !(detailedTable && doc.baseline.met) ? baselineLines(doc.baseline) : []),
      ];
      if (lines.length) problems.push(`${escapeText(formatTarget(report))}:\n${lines.map((l) => `  ${l}`).join('\n')}`);
      progress?.done(report.probes.length + (report.offer ? 1 : 0));
      if (plan.verbose) note(transcriptText(report));
      if (plan.verbose && report.fingerprint) {
        note(`${[fingerprintLine(report.fingerprint), ...fingerprintDetail(report.fingerprint)].join('\n')}\n`);
      }
      for (const reporter of reporters) await reporter.add(doc, index);
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
    const total = tally.targets;
    const writable = (): boolean => !outputLost.signal.aborted;
    // Nothing to probe because every line of the list was invalid: a usage error, and stdout stays empty.
    const unusable = total === 0 && fileInput !== null && invalid > 0 && interrupted === null;
    const end = { durationMs: Date.now() - started, interrupted: interrupted !== null, unusable };
    for (const reporter of reporters) await reporter.end({ ...end, targets: total, answered: total - tally.silent });
    await Promise.all([out, ...fileWriters].map((w) => w.flush()));
    await Promise.all(files.map((f) => f.close()));
    progress?.finish();
    // Differences go to stdout under a table, to stderr when stdout carries JSON for a script.
    const report = plan.output === 'table' ? io.stdout : io.stderr;
    if (plan.output !== 'table' || writable()) for (const p of problems) report.write(`${p}\n`);
    const fileError = lostFile[0];
    if (fileError) io.stderr.write(`msnp-probe: cannot write '${escapeText(fileError.file)}': ${fileError.code}\n`);
    if (invalid > MAX_INVALID_SHOWN) io.stderr.write(`msnp-probe: --targets: ${invalid} lines skipped in all\n`);
    if (interrupted !== null) {
      io.stderr.write(`msnp-probe: interrupted by ${interrupted}; ${total} target${total === 1 ? '' : 's'} finished\n`);
    } else if (unusable) {
      io.stderr.write('msnp-probe: --targets: no valid target in the list\n');
      return EXIT.usage;
    } else if (total === 0 && !outputLost.signal.aborted) {
      const check = plan.expect ? '--expect' : baseline ? '--baseline' : null;
      const why = check ? `: ${check} cannot pass` : '';
      io.stderr.write(`msnp-probe: no targets to probe (empty list or empty shard)${why}\n`);
    }
    const localProbes = tally.localErrors;
    if (localProbes > 0) {
      const why = [...tally.local.keys()].map(escapeText).join(', ');
      io.stderr.write(
        `msnp-probe: ${localProbes} probe${localProbes === 1 ? '' : 's'} could not be made: this machine ran out of ` +
          `file descriptors or ports (${why}); their results are unknown, not the server's answer ` +
          '(lower --concurrency/--global-concurrency or raise ulimit -n)\n',
      );
    }
    await io.settle?.();
    return exitCode(tally.summary(checks, { interrupted, writeError: io.output?.error ?? fileError?.code ?? null }));
  } finally {
    stopListening?.();
    stopWatching?.();
  }
}
