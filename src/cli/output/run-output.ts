import { fingerprintDetail, fingerprintLine } from '../../probe/fingerprint/render.js';
import type { TargetReport } from '../../probe/probe.js';
import type { TargetDocument } from '../../report/render/json.js';
import { transcriptText } from '../../report/render/lines.js';
import { FORMATS } from '../../report/formats/registry.js';
import type { Reporter, ReporterContext, RunEnd } from '../../report/formats/reporter.js';
import { checkProblems } from '../../verdict/problems.js';
import { terminalWidth, type Io } from '../io.js';
import { colorSupport } from '../color-support.js';
import { wrapText } from '../../core/fit.js';
import type { Args, ProbePlan } from '../options.js';
import { BatchedWriter, type Sink } from './batched-writer.js';
import { openOutputFiles, type OpenedFile } from './output-files.js';
import { Progress } from './progress.js';

/** Colour on standard output: --color/--no-color, FORCE_COLOR, NO_COLOR, TERM=dumb, a terminal (color-support.ts). */
export function useColor(args: Args, io: Io): boolean {
  return colorSupport(args['color'], io.stdout, io.env);
}

/** Text for a terminal of `width` columns: each long line wrapped under its own indent, nothing dropped. */
function fitLines(text: string, width: number | null): string {
  if (width === null) return text;
  return text
    .split('\n')
    .flatMap((line) => wrapText(line, width, `${/^ */.exec(line)?.[0] ?? ''}    `))
    .join('\n');
}

/** What the output needs to know of the run besides the plan. */
export interface RunShape {
  color: boolean;
  /** One target named on the command line: the table shows it in full. */
  single: boolean;
  /** The number of targets, when known up front (for the progress line's ETA). */
  knownTotal: number | null;
  startedAt: Date;
}

/**
 * Everything a probe run writes: the format on standard output (none with --quiet), the
 * `-o FORMAT:FILE` files, the progress line, verbose transcripts, and the check problems listed
 * after the run. The first output that cannot be written calls `onLost`, which stops the run.
 */
export class RunOutput {
  readonly progress: Progress | null;
  readonly #plan: ProbePlan;
  readonly #io: Io;
  readonly #lost: AbortController;
  readonly #files: OpenedFile[];
  readonly #writers: BatchedWriter[];
  readonly #reporters: Reporter[];
  readonly #metShown: boolean;
  /** Columns of the terminal on stdout and on stderr; null: not a terminal, nothing is fitted. */
  readonly #width: number | null;
  readonly #noteWidth: number | null;
  readonly #problems: string[] = [];
  readonly #unwatch: (() => void) | undefined;
  /** The first output file that could not be written (standard output has its own watch, in io). */
  #lostFile: { file: string; code: string } | null = null;

  static async open(plan: ProbePlan, io: Io, shape: RunShape, onLost: (reason: unknown) => void): Promise<RunOutput> {
    const lost = new AbortController();
    const lose = (reason: Error): void => {
      lost.abort(reason);
      onLost(reason);
    };
    let output: RunOutput | null = null;
    const files = await openOutputFiles(plan.outputFiles, (file, code) => {
      if (output) output.#lostFile ??= { file, code };
      lose(new Error(`cannot write '${file}': ${code}`));
    });
    const unwatch = io.output?.onError((code) => lose(new Error(`cannot write output: ${code}`)));
    output = new RunOutput(plan, io, shape, lost, files, unwatch);
    await output.#openReporters(shape);
    return output;
  }

  private constructor(
    plan: ProbePlan,
    io: Io,
    shape: RunShape,
    lost: AbortController,
    files: OpenedFile[],
    unwatch: (() => void) | undefined,
  ) {
    this.#plan = plan;
    this.#io = io;
    this.#lost = lost;
    this.#files = files;
    this.#unwatch = unwatch;
    this.#metShown = shape.single && plan.output === 'table' && !plan.quiet;
    this.#width = terminalWidth(io.stdout, io.env);
    this.#noteWidth = terminalWidth(io.stderr, io.env);
    const showProgress = !shape.single && !plan.quiet && (plan.progress ?? Boolean(io.stderr.isTTY));
    this.progress = showProgress ? new Progress((t) => io.stderr.write(t), shape.knownTotal) : null;
    this.#writers = [];
    this.#reporters = [];
  }

  async #openReporters(shape: RunShape): Promise<void> {
    const context = {
      versions: this.#plan.scan.versions,
      fingerprint: this.#plan.scan.fingerprint,
      detailed: shape.single,
      startedAt: shape.startedAt,
      // Run-wide options a reader comparing runs needs: the JSON document records them.
      ...(this.#plan.scan.maxRate !== undefined ? { options: { maxRate: this.#plan.scan.maxRate } } : {}),
    };
    if (!this.#plan.quiet) {
      const onStdout = { ...context, width: this.#width };
      await this.#addReporter(this.#plan.output, this.#stdoutSink(), onStdout, shape.color);
    }
    for (const f of this.#files) await this.#addReporter(f.format, f.sink, context, false);
  }

  async #addReporter(
    format: ProbePlan['output'],
    sink: Sink,
    context: Omit<ReporterContext, 'write' | 'color'>,
    color: boolean,
  ): Promise<void> {
    const writer = new BatchedWriter(sink, this.#lost.signal);
    this.#writers.push(writer);
    this.#reporters.push(await FORMATS[format]({ ...context, color, write: (t) => writer.write(t) }));
  }

  /** Standard output; rows for a terminal that also shows the progress line take the line away first. */
  #stdoutSink(): Sink {
    const sink: Sink = this.#io.stdout;
    const progress = this.progress;
    if (!progress || !this.#io.stdout.isTTY) return sink;
    return {
      write: (t) => progress.around(() => sink.write(t)),
      once: (event, listener) => sink.once?.(event, listener),
    };
  }

  /** Whether any output has failed (the run was stopped for it). */
  get lost(): boolean {
    return this.#lost.signal.aborted;
  }

  get lostFile(): { file: string; code: string } | null {
    return this.#lostFile;
  }

  /** Text for stderr while the progress line may be on screen. */
  note(text: string): void {
    if (this.progress) this.progress.around(() => this.#io.stderr.write(text));
    else this.#io.stderr.write(text);
  }

  /** One finished target, judged into `doc`. */
  async add(report: TargetReport, doc: TargetDocument, index: number): Promise<void> {
    const problem = checkProblems(doc, this.#metShown);
    if (problem !== null) this.#problems.push(problem);
    this.progress?.done(report.probes.length + (report.offer ? 1 : 0));
    if (this.#plan.verbose) this.note(fitLines(transcriptText(report), this.#noteWidth));
    if (this.#plan.verbose && report.fingerprint) {
      const lines = [fingerprintLine(report.fingerprint), ...fingerprintDetail(report.fingerprint, this.#noteWidth)];
      this.note(fitLines(`${lines.join('\n')}\n`, this.#noteWidth));
    }
    for (const reporter of this.#reporters) await reporter.add(doc, index);
  }

  /**
   * Closes every output: the formats' closing lines, files flushed and closed, the progress line
   * cleared, then the check problems: on stdout under a table, on stderr when stdout carries data
   * for a script; not with --quiet.
   */
  async end(run: RunEnd): Promise<void> {
    for (const reporter of this.#reporters) await reporter.end(run);
    await Promise.all(this.#writers.map((w) => w.flush()));
    await Promise.all(this.#files.map((f) => f.close()));
    this.progress?.finish();
    if (this.#plan.quiet) return;
    const table = this.#plan.output === 'table';
    if (table && this.lost) return;
    const width = table ? this.#width : this.#noteWidth;
    for (const p of this.#problems) (table ? this.#io.stdout : this.#io.stderr).write(fitLines(`${p}\n`, width));
  }

  /** Stops watching standard output for failed writes. */
  release(): void {
    this.#unwatch?.();
  }
}
