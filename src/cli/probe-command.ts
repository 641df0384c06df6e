import { exitCode } from '../verdict/exit-code.js';
import { judge, Tally, type Checks } from '../verdict/judge.js';
import { loadBaseline, TargetFeed } from './inputs.js';
import { EXIT, type Io } from './io.js';
import type { Args, ProbePlan } from './options.js';
import { closingNotes, runSummary } from './output/closing-notes.js';
import { RunOutput, useColor } from './output/run-output.js';
import { RunControl } from './run-control.js';
import { scannerFor } from './workers.js';

/** `msnp-probe HOST...`: the targets scanned, each judged and reported as it finishes; the exit code. */
export async function runProbes(plan: ProbePlan, args: Args, io: Io): Promise<number> {
  const startedAt = new Date();
  // The duration from the monotonic clock: a wall-clock step during the run must not skew it.
  const started = performance.now();
  const checks: Checks = { expect: plan.expect, baseline: await loadBaseline(plan.baselineFile, io) };
  const feed = await TargetFeed.open(plan, io);
  const control = new RunControl(io);
  const shape = { color: useColor(args, io), single: feed.single, knownTotal: feed.knownTotal, startedAt };
  const output = await RunOutput.open(plan, io, shape, (reason) => control.stop(reason)).catch((err: unknown) => {
    // No probe will read the list: a FIFO or terminal left open would keep the process alive.
    feed.end(true);
    control.release();
    throw err;
  });
  if (output.progress) feed.countInBackground((n) => output.progress?.setTotal(n));
  const tally = new Tally();
  /** Set once scan() has returned: a worker still winding down after a stop must not add to ended output. */
  let ended = false;
  try {
    const targets = feed.targets(control.signal, (text) => output.note(text));
    await control.finish(
      scannerFor(plan)(targets, { ...plan.scan, signal: control.signal }, async (report, index) => {
        if (ended) return;
        const judged = judge(report, checks);
        tally.add(judged);
        await output.add(report, judged.doc, index);
      }),
    );
    ended = true;
    feed.end(control.signal.aborted);
    return await finish(plan, io, {
      feed,
      control,
      output,
      tally,
      checks,
      durationMs: Math.round(performance.now() - started),
    });
  } finally {
    control.release();
    output.release();
  }
}

interface Finished {
  feed: TargetFeed;
  control: RunControl;
  output: RunOutput;
  tally: Tally;
  checks: Checks;
  durationMs: number;
}

/** Closes the outputs, writes the closing lines and turns the run into its exit code. */
async function finish(plan: ProbePlan, io: Io, f: Finished): Promise<number> {
  const { tally, control, output } = f;
  const interrupted = control.interrupted;
  // Nothing to probe because every line of the list was invalid: a usage error, and stdout stays empty.
  const unusable = tally.targets === 0 && f.feed.hasList && f.feed.invalid > 0 && interrupted === null;
  const run = { durationMs: f.durationMs, interrupted: interrupted !== null, unusable };
  await output.end({ ...run, targets: tally.targets, answered: tally.targets - tally.silent });
  const check = plan.expect ? '--expect' : f.checks.baseline ? '--baseline' : null;
  const ending = { ...run, tally, invalid: f.feed.invalid, interrupted, check };
  for (const note of closingNotes({ ...ending, outputLost: output.lost, lostFile: output.lostFile })) {
    io.stderr.write(note);
  }
  if (unusable) return EXIT.usage;
  await io.settle?.();
  const writeError = io.output?.error ?? output.lostFile?.code ?? null;
  // A run whose output was lost ends with its one error line; the exit code says the rest.
  if (plan.output === 'ndjson' && !plan.quiet && writeError === null && !output.lost) {
    io.stderr.write(`msnp-probe: ${runSummary(tally, f.durationMs)}\n`);
  }
  return exitCode(tally.summary(f.checks, { interrupted, writeError }));
}
