import { constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { escapeText } from '../core/escape.js';
import type { Target } from '../input/target.js';
import { blockTargets, inShard, readTargets, type InvalidLine } from '../probe/targets.js';
import { untilAborted } from '../probe/pacer.js';
import type { AddressFilter, TargetBlock } from '../input/address.js';
import { parseBaseline, type BaselineTarget } from '../verdict/baseline.js';
import type { Io } from './io.js';
import { UsageError, type ProbePlan } from './options.js';

/** At most this many skipped target lines are named on stderr; the rest are counted. */
export const MAX_INVALID_SHOWN = 10;

export async function openTargets(plan: ProbePlan, io: Io): Promise<AsyncIterable<Buffer | string> | null> {
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
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new UsageError(`--targets: cannot read '${plan.targetsFile}': ${code}`);
  }
}

/**
 * How many targets of `file` this run will probe, or null when it cannot be read a second time:
 * a pipe, a FIFO or a terminal hands each line to one reader only, so counting would steal lines
 * from the prober. Opened without blocking (a FIFO's open would wait for a writer) and never read
 * unless fstat says it is a regular file.
 */
export async function countTargets(
  file: string,
  defaultPort: number,
  mine: (t: Target) => boolean,
  signal: AbortSignal,
): Promise<number | null> {
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
export function closeInput(input: AsyncIterable<Buffer | string>): void {
  const stream = input as Partial<{ destroy(): unknown; destroyed: boolean }>;
  if (typeof stream.destroy === 'function' && !stream.destroyed) stream.destroy();
}

export async function loadBaseline(file: string | null, io: Io): Promise<Map<string, BaselineTarget> | null> {
  if (file === null) return null;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--baseline: cannot read '${file}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    const cut = (line: number): unknown =>
      io.stderr.write(`msnp-probe: --baseline: line ${line} is cut off (a killed run?); compared without it\n`);
    return parseBaseline(text, cut);
  } catch (err) {
    throw new UsageError(`--baseline: '${file}': ${err instanceof Error ? err.message : String(err)}`);
  }
}

export interface SourceOptions {
  /** Targets named on the command line (already sharded), probed first. */
  commandLine: readonly Target[];
  /** Address blocks and ranges from the command line (CIDR, a-b), expanded lazily after them. */
  blocks: readonly TargetBlock[];
  /** --exclude: addresses and names never probed. */
  exclude: AddressFilter | null;
  /** The opened --targets list, or null. */
  fileInput: AsyncIterable<Buffer | string> | null;
  /** How the list is named in errors: `standard input` or the quoted file name. */
  listName: string;
  defaultPort: number;
  /** Whether a target belongs to this run's --shard. */
  mine: (target: Target) => boolean;
  onInvalid: (bad: InvalidLine) => void;
  /** A stop ends the source at once, without waiting for the next line. */
  signal: AbortSignal;
}

/** The command line's targets, then the list's, in order; ends promptly on a stop. */
export async function* targetSource(o: SourceOptions): AsyncGenerator<Target> {
  yield* o.commandLine;
  for (const block of o.blocks) {
    for (const target of blockTargets(block, o.exclude ?? undefined)) if (o.mine(target)) yield target;
  }
  if (!o.fileInput) return;
  const read = readOrUsage(o.fileInput, o.listName);
  const options = { defaultPort: o.defaultPort, onInvalid: o.onInvalid, exclude: o.exclude };
  const lines = readTargets(read, options)[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      // A stop must not wait for the next line: from a terminal or a quiet pipe it may never come.
      // Not a race with one promise of the whole run: each race left a reaction on it, about
      // half a kilobyte per line held until the end (248 MB of peak RSS at 100,000 targets).
      const next = await untilAborted(lines.next(), o.signal);
      if (next.done) {
        finished = true;
        return;
      }
      if (o.mine(next.value)) yield next.value;
    }
  } finally {
    // After a stop the list was destroyed; a pending read would keep return() waiting.
    if (!finished && !o.signal.aborted) await lines.return?.(undefined);
  }
}

/**
 * The targets of one run: those named on the command line, its address blocks, then its list, each
 * kept only when it is in the run's --shard and not excluded (dropped before any connection or lookup).
 */
export class TargetFeed {
  /** Lines of the list skipped as invalid. */
  invalid = 0;
  readonly #plan: ProbePlan;
  readonly #input: AsyncIterable<Buffer | string> | null;
  readonly #counting = new AbortController();
  readonly #commandLine: Target[];

  static async open(plan: ProbePlan, io: Io): Promise<TargetFeed> {
    return new TargetFeed(plan, await openTargets(plan, io));
  }

  private constructor(plan: ProbePlan, input: AsyncIterable<Buffer | string> | null) {
    this.#plan = plan;
    this.#input = input;
    this.#commandLine = plan.targets.filter(this.mine);
  }

  readonly mine = (target: Target): boolean =>
    (!this.#plan.shard || inShard(target, this.#plan.shard)) && !this.#plan.exclude?.excludes(target.host);

  /** Whether a target list (a file or standard input) is read. */
  get hasList(): boolean {
    return this.#input !== null;
  }

  /** One target named on the command line and nothing else: the table shows it in full. */
  get single(): boolean {
    return this.#input === null && (this.#plan.blocks ?? []).length === 0 && this.#plan.targets.length === 1;
  }

  /** The number of targets when known up front: a block's size after exclusions is not, nor a list's. */
  get knownTotal(): number | null {
    return this.#input === null && (this.#plan.blocks ?? []).length === 0 ? this.#commandLine.length : null;
  }

  /** A regular list file can be read twice: counted alongside the probing, `onTotal` hears the total. */
  countInBackground(onTotal: (total: number) => void): void {
    const file = this.#plan.targetsFile;
    if (file === null || file === '-') return;
    countTargets(file, this.#plan.defaultPort, this.mine, this.#counting.signal).then(
      (n) => n !== null && onTotal(this.#commandLine.length + n),
      () => undefined,
    );
  }

  /** The targets in order; `signal` ends them at once. `note` shows a skipped line on stderr. */
  targets(signal: AbortSignal, note: (text: string) => void): AsyncGenerator<Target> {
    const input = this.#input;
    if (input) signal.addEventListener('abort', () => closeInput(input), { once: true });
    const file = this.#plan.targetsFile;
    return targetSource({
      commandLine: this.#commandLine,
      blocks: this.#plan.blocks ?? [],
      exclude: this.#plan.exclude ?? null,
      fileInput: input,
      listName: file === '-' ? 'standard input' : `'${file ?? ''}'`,
      defaultPort: this.#plan.defaultPort,
      mine: this.mine,
      onInvalid: (bad) => {
        if (++this.invalid > MAX_INVALID_SHOWN) return;
        note(`msnp-probe: --targets line ${bad.line}: ${escapeText(bad.message)} (skipped)\n`);
      },
      signal,
    });
  }

  /** Ends the counting; after a stop, closes the list too: a read from a terminal or a FIFO may never return. */
  end(stopped: boolean): void {
    this.#counting.abort();
    if (this.#input && stopped) closeInput(this.#input);
  }
}
