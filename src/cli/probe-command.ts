import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { escapeText } from '../codec/escape.js';
import { formatTarget, type Target } from '../codec/target.js';
import { BatchedWriter, type Sink } from './batched-writer.js';
import { scan } from '../probe/scan.js';
import { readTargets, inShard, type InvalidLine } from '../probe/targets.js';
import { parseBaseline, compareBaseline, baselineKey, type BaselineTarget } from '../report/baseline.js';
import { compareExpected } from '../report/expect.js';
import { buildDocument, type TargetDocument } from '../report/json.js';
import { expectationLines, baselineLines, transcriptText } from '../report/lines.js';
import { EXIT, type Io } from './io.js';
import { UsageError, type Args, type ProbePlan } from './options.js';
import { Progress } from './progress.js';

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
    return readOrUsage(io.stdin, 'standard input');
  }
  try {
    const handle = await open(plan.targetsFile, 'r');
    if ((await handle.stat()).isDirectory()) {
      await handle.close();
      throw Object.assign(new Error('a directory'), { code: 'EISDIR' });
    }
    return readOrUsage(handle.createReadStream(), `'${plan.targetsFile}'`);
  } catch (err) {
    throw new UsageError(`--targets: cannot read '${plan.targetsFile}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
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

/** How many targets of `file` this run will probe; reads the file on its own stream. */
async function countTargets(file: string, defaultPort: number, mine: (t: Target) => boolean, signal: AbortSignal): Promise<number> {
  let n = 0;
  for await (const target of readTargets(createReadStream(file, { signal }), { defaultPort })) if (mine(target)) n++;
  return n;
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
  const mine = (target: Target): boolean => !plan.shard || inShard(target, plan.shard);
  const commandLine = plan.targets.filter(mine);
  const detailed = fileInput === null && plan.targets.length === 1;
  const showProgress = !detailed && (plan.progress ?? Boolean(io.stderr.isTTY));
  const progress = showProgress ? new Progress((t) => io.stderr.write(t), fileInput === null ? commandLine.length : null) : null;
  const stopCounting = new AbortController();
  if (progress && plan.targetsFile !== null && plan.targetsFile !== '-') {
    // A file can be read twice: count it alongside the probing, for the ETA. Standard input cannot.
    countTargets(plan.targetsFile, plan.defaultPort, mine, stopCounting.signal).then(
      (n) => progress.setTotal(commandLine.length + n),
      () => undefined,
    );
  }
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
    if (!fileInput) return;
    for await (const target of readTargets(fileInput, { defaultPort: plan.defaultPort, onInvalid })) {
      if (mine(target)) yield target;
    }
  }
  const color = useColor(args, io);
  // The table modules (cli-table3 and its width tables) load only when a table is printed.
  const text = plan.output === 'table' && detailed ? await import('../report/text.js') : null;
  const matrixModule = plan.output === 'table' && !detailed ? await import('../report/matrix.js') : null;
  const matrix = matrixModule ? new matrixModule.MatrixPrinter(plan.versions, color) : null;
  // Rows for a terminal that also shows the progress line: take the line away while writing.
  const sink: Sink = io.stdout;
  const out = new BatchedWriter(
    progress && io.stdout.isTTY
      ? { write: (t) => progress.around(() => sink.write(t)), once: (event, listener) => sink.once?.(event, listener) }
      : sink,
  );
  // The matrix header waits for the first row: a list with no usable line prints nothing on stdout.
  let headerDone = false;

  const collected: { index: number; doc: TargetDocument }[] = [];
  let total = 0;
  let silent = 0;
  let failed = 0;
  /** Probes this machine could not make (out of descriptors or ports), by errno: not the server's doing. */
  const local = new Map<string, number>();
  const problems: string[] = [];
  await scan(
    source(),
    {
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
      transcript: plan.transcript,
      transport: plan.transport,
      ...(plan.gatewayNsHost !== undefined ? { gatewayNsHost: plan.gatewayNsHost } : {}),
    },
    async (report, index) => {
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
        ...(doc.baseline ? baselineLines(doc.baseline) : []),
      ];
      if ((doc.expectation && !doc.expectation.met) || (doc.baseline && !doc.baseline.met)) failed++;
      if (lines.length) problems.push(`${escapeText(formatTarget(report))}:\n${lines.map((l) => `  ${l}`).join('\n')}`);
      progress?.done(report.probes.length + (report.offer ? 1 : 0));
      if (plan.verbose) note(transcriptText(report));
      switch (plan.output) {
        case 'ndjson':
          await out.write(`${JSON.stringify(doc)}\n`);
          break;
        case 'json':
          collected.push({ index, doc });
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
  await out.flush();
  progress?.finish();
  stopCounting.abort();
  // Nothing to probe because every line of the list was invalid: a usage error, and stdout stays empty.
  const unusable = total === 0 && fileInput !== null && invalid > 0;
  if (plan.output === 'json' && !unusable) {
    collected.sort((a, b) => a.index - b.index);
    const doc = buildDocument(collected.map((c) => c.doc), startedAt, Date.now() - started);
    io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  }
  if (matrixModule && total > 0) io.stdout.write(`${matrixModule.MATRIX_LEGEND}\n${total} target${total === 1 ? '' : 's'}, ${total - silent} answered as MSNP\n`);
  // Differences go to stdout under a table, to stderr when stdout carries JSON for a script.
  const report = plan.output === 'table' ? io.stdout : io.stderr;
  for (const p of problems) report.write(`${p}\n`);
  if (invalid > MAX_INVALID_SHOWN) io.stderr.write(`msnp-probe: --targets: ${invalid} lines skipped in all\n`);
  if (total === 0) {
    io.stderr.write(unusable ? 'msnp-probe: --targets: no valid target in the list\n' : 'msnp-probe: no targets to probe (empty list or empty shard)\n');
    return unusable ? EXIT.usage : EXIT.ok;
  }
  if (local.size > 0) {
    const n = [...local.values()].reduce((a, b) => a + b, 0);
    const why = [...local.keys()].map(escapeText).join(', ');
    io.stderr.write(
      `msnp-probe: ${n} probe${n === 1 ? '' : 's'} could not be made: this machine ran out of file descriptors or ` +
        `ports (${why}); their results are unknown, not the server's answer ` +
        '(lower --concurrency/--global-concurrency or raise ulimit -n)\n',
    );
    // Incomplete results: neither a met expectation nor a verdict on the server.
    return EXIT.localError;
  }
  // A difference from what was expected is the answer a CI job asked for: it wins over a silent target.
  if (failed > 0) return EXIT.expectationNotMet;
  if (silent > 0) return EXIT.noMsnpAnswer;
  return EXIT.ok;
}
