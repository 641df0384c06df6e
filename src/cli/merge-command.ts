import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { escapeText } from '../core/escape.js';
import { formatTarget, parsePort, DEFAULT_PORT, type Target } from '../input/target.js';
import { isMsnpProbeError } from '../core/errors.js';
import { readTargets } from '../probe/targets.js';
import type { TargetDocument } from '../report/render/json.js';
import { FORMATS, type FormatName } from '../report/formats/registry.js';
import { mergeReports, type MergeInput, type MergeResult } from '../report/merge.js';
import { EXIT, terminalWidth, type Io } from './io.js';
import { UsageError, type Args } from './options.js';
import { BatchedWriter } from './output/batched-writer.js';
import { useColor } from './output/run-output.js';

/** Missing targets named on stderr; the rest are counted. */
const MISSING_SHOWN = 5;

function optionText(args: Args, name: string): string | undefined {
  const value = args[name];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new UsageError(`--${name}: given more than once`);
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`--${name}: needs a value`);
  return value;
}

async function readShard(file: string): Promise<MergeInput> {
  try {
    if ((await stat(file)).isDirectory()) throw Object.assign(new Error('a directory'), { code: 'EISDIR' });
    return { name: file, text: await readFile(file, 'utf8') };
  } catch (err) {
    throw new UsageError(`merge: cannot read '${file}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** The original list, for the order of the output and to find targets no shard reported. */
async function readOrder(file: string, defaultPort: number, io: Io): Promise<Target[]> {
  const order: Target[] = [];
  let invalid = 0;
  try {
    if ((await stat(file)).isDirectory()) throw Object.assign(new Error('a directory'), { code: 'EISDIR' });
    const onInvalid = (): void => {
      invalid++;
    };
    for await (const t of readTargets(createReadStream(file), { defaultPort, onInvalid })) order.push(t);
  } catch (err) {
    const why = isMsnpProbeError(err) ? err.message : ((err as NodeJS.ErrnoException).code ?? String(err));
    throw new UsageError(`merge: --targets: cannot read '${file}': ${why}`);
  }
  // The probe skipped these lines too: no shard could have a result for them.
  if (invalid > 0) {
    io.stderr.write(`msnp-probe: merge: --targets: ${invalid} invalid line${invalid === 1 ? '' : 's'} ignored\n`);
  }
  return order;
}

/**
 * `msnp-probe merge FILE...`: shard outputs (`--json` or `--ndjson`) as one matrix, JSON document
 * or NDJSON stream, in target order. Exit 1 when `--targets` names targets no file has a result for.
 */
export async function merge(args: Args, files: readonly string[], io: Io): Promise<number> {
  const started = new Date();
  const startedMonotonic = performance.now();
  if (files.length === 0) throw new UsageError('merge: give the shard outputs: FILE... (from --json or --ndjson)');
  if (args['json'] === true && args['ndjson'] === true) throw new UsageError('--json and --ndjson: choose one output');
  const listFile = optionText(args, 'targets');
  const portText = optionText(args, 'port');
  if (portText !== undefined && listFile === undefined) {
    throw new UsageError("--port: only with --targets (the list's default port)");
  }
  let defaultPort = DEFAULT_PORT;
  try {
    if (portText !== undefined) defaultPort = parsePort(portText);
  } catch (err) {
    throw new UsageError(`--port: ${err instanceof Error ? err.message : String(err)}`);
  }
  const order = listFile === undefined ? null : await readOrder(listFile, defaultPort, io);
  const inputs: MergeInput[] = [];
  for (const file of files) inputs.push(await readShard(file));
  let merged: MergeResult;
  try {
    merged = mergeReports(inputs, order);
  } catch (err) {
    throw new UsageError(`merge: ${err instanceof Error ? err.message : String(err)}`);
  }
  const { targets, missing, duplicates, cut } = merged;
  for (const c of cut) {
    const where = `'${escapeText(c.file)}' line ${c.line}`;
    io.stderr.write(`msnp-probe: merge: ${where} is cut off (a killed shard?); merged without it\n`);
  }
  if (duplicates.length > 0) {
    const d = duplicates[0];
    const kept = d ? `, kept from '${escapeText(d.kept)}'` : '';
    const first = d ? ` (first: ${escapeText(formatTarget(d))} in '${escapeText(d.file)}'${kept})` : '';
    const n = duplicates.length;
    const what = `${n} duplicate result${n === 1 ? '' : 's'} dropped, the earlier file's kept`;
    io.stderr.write(`msnp-probe: merge: ${what}${first}\n`);
  }
  await writeMerged(targets, args, io, started, startedMonotonic);
  if (targets.length === 0) io.stderr.write('msnp-probe: merge: no results in the files (empty shards?)\n');
  if (missing.length > 0) {
    const named = missing
      .slice(0, MISSING_SHOWN)
      .map((t) => escapeText(formatTarget(t)))
      .join(', ');
    const more = missing.length > MISSING_SHOWN ? ', ...' : '';
    const n = missing.length;
    const what = `${n} target${n === 1 ? '' : 's'} of --targets ${n === 1 ? 'has' : 'have'} no result`;
    io.stderr.write(`msnp-probe: merge: ${what}: ${named}${more}\n`);
    return EXIT.expectationNotMet;
  }
  return EXIT.ok;
}

/** The merged targets on stdout through the same reporters as a probe run: --ndjson, --json or the matrix. */
async function writeMerged(
  targets: TargetDocument[],
  args: Args,
  io: Io,
  startedAt: Date,
  startedMonotonic: number,
): Promise<void> {
  const format: FormatName = args['ndjson'] === true ? 'ndjson' : args['json'] === true ? 'json' : 'table';
  const versions = [...new Set(targets.flatMap((t) => t.probes.map((p) => p.version)))].sort((a, b) => a - b);
  const out = new BatchedWriter(io.stdout);
  const reporter = await FORMATS[format]({
    versions,
    color: useColor(args, io),
    fingerprint: targets.some((t) => t.fingerprint !== undefined),
    detailed: false,
    startedAt,
    width: terminalWidth(io.stdout, io.env),
    write: (t) => out.write(t),
  });
  for (const [index, target] of targets.entries()) await reporter.add(target, index);
  const answered = targets.filter((t) => t.answered).length;
  // As a probe run's: a wall-clock step while merging must not make the duration negative.
  const durationMs = Math.round(performance.now() - startedMonotonic);
  await reporter.end({ durationMs, interrupted: false, targets: targets.length, answered, unusable: false });
  await out.flush();
}
