import { open, readFile } from 'node:fs/promises';
import { escapeText } from '../codec/escape.js';
import { formatTarget, DEFAULT_PORT, type Target } from '../codec/target.js';
import { BatchedWriter } from './batched-writer.js';
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

async function loadBaseline(file: string | null): Promise<Map<string, BaselineTarget> | null> {
  if (file === null) return null;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--baseline: cannot read '${file}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    return parseBaseline(text);
  } catch (err) {
    throw new UsageError(`--baseline: '${file}': ${err instanceof Error ? err.message : String(err)}`);
  }
}

export async function runProbes(plan: ProbePlan, args: Args, io: Io): Promise<number> {
  const startedAt = new Date();
  const started = Date.now();
  const baseline = await loadBaseline(plan.baselineFile);
  const fileInput = await openTargets(plan, io);
  let invalid = 0;
  const onInvalid = (bad: InvalidLine): void => {
    invalid++;
    if (invalid <= MAX_INVALID_SHOWN) io.stderr.write(`msnp-probe: --targets line ${bad.line}: ${escapeText(bad.message)} (skipped)\n`);
  };
  async function* source(): AsyncGenerator<Target> {
    yield* plan.targets;
    if (!fileInput) return;
    for await (const target of readTargets(fileInput, { defaultPort: plan.targets[0]?.port ?? DEFAULT_PORT, onInvalid })) {
      if (!plan.shard || inShard(target, plan.shard)) yield target;
    }
  }
  const detailed = fileInput === null && plan.targets.length === 1;
  const color = useColor(args, io);
  // The table modules (cli-table3 and its width tables) load only when a table is printed.
  const text = plan.output === 'table' && detailed ? await import('../report/text.js') : null;
  const matrixModule = plan.output === 'table' && !detailed ? await import('../report/matrix.js') : null;
  const matrix = matrixModule ? new matrixModule.MatrixPrinter(plan.versions, color) : null;
  const showProgress = !detailed && (plan.progress ?? Boolean(io.stderr.isTTY));
  const progress = showProgress ? new Progress((t) => io.stderr.write(t), fileInput === null ? plan.targets.length : null) : null;
  const out = new BatchedWriter(io.stdout);
  if (matrix) out.write(matrix.header());

  const collected: { index: number; doc: TargetDocument }[] = [];
  let total = 0;
  let silent = 0;
  let failed = 0;
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
      if (!report.answered) silent++;
      const lines = [
        ...(doc.expectation && !doc.expectation.met ? expectationLines(doc.expectation) : []),
        ...(doc.baseline ? baselineLines(doc.baseline) : []),
      ];
      if ((doc.expectation && !doc.expectation.met) || (doc.baseline && !doc.baseline.met)) failed++;
      if (lines.length) problems.push(`${escapeText(formatTarget(report))}:\n${lines.map((l) => `  ${l}`).join('\n')}`);
      progress?.done(report.probes.length + (report.offer ? 1 : 0));
      if (plan.verbose) io.stderr.write(transcriptText(report));
      switch (plan.output) {
        case 'ndjson':
          await out.write(`${JSON.stringify(doc)}\n`);
          break;
        case 'json':
          collected.push({ index, doc });
          break;
        case 'table':
          if (matrix) {
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
  if (plan.output === 'json') {
    collected.sort((a, b) => a.index - b.index);
    const doc = buildDocument(collected.map((c) => c.doc), startedAt, Date.now() - started);
    io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  }
  if (matrixModule) io.stdout.write(`${matrixModule.MATRIX_LEGEND}\n${total} targets, ${total - silent} answered as MSNP\n`);
  // Differences go to stdout under a table, to stderr when stdout carries JSON for a script.
  const report = plan.output === 'table' ? io.stdout : io.stderr;
  for (const p of problems) report.write(`${p}\n`);
  if (invalid > MAX_INVALID_SHOWN) io.stderr.write(`msnp-probe: --targets: ${invalid} lines skipped in all\n`);
  if (total === 0) {
    io.stderr.write('msnp-probe: no targets to probe (empty list or empty shard)\n');
    return fileInput !== null && invalid > 0 ? EXIT.usage : EXIT.ok;
  }
  if (silent > 0) return EXIT.noMsnpAnswer;
  if (failed > 0) return EXIT.expectationNotMet;
  return EXIT.ok;
}
