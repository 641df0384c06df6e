import { escapeText } from '../../core/escape.js';
import type { Tally } from '../../verdict/judge.js';
import type { StopSignal } from '../run-control.js';
import { MAX_INVALID_SHOWN } from '../inputs.js';

/** How a probe run ended, for the lines written on stderr after it. */
export interface RunEnding {
  tally: Tally;
  /** Lines of the target list skipped as invalid. */
  invalid: number;
  interrupted: StopSignal | null;
  /** Every line of the list was invalid: a usage error. */
  unusable: boolean;
  /** Some output could not be written. */
  outputLost: boolean;
  lostFile: { file: string; code: string } | null;
  /** The check that cannot pass over no target (`--expect`, `--baseline`), if any. */
  check: string | null;
}

/** The lines for stderr after a run, each ending in a newline. */
export function closingNotes(e: RunEnding): string[] {
  const notes: string[] = [];
  const total = e.tally.targets;
  if (e.lostFile) notes.push(`cannot write '${escapeText(e.lostFile.file)}': ${e.lostFile.code}`);
  if (e.invalid > MAX_INVALID_SHOWN) notes.push(`--targets: ${e.invalid} lines skipped in all`);
  if (e.interrupted !== null) {
    notes.push(`interrupted by ${e.interrupted}; ${total} target${total === 1 ? '' : 's'} finished`);
  } else if (e.unusable) {
    notes.push('--targets: no valid target in the list');
  } else if (total === 0 && !e.outputLost) {
    const why = e.check ? `: ${e.check} cannot pass` : '';
    notes.push(`no targets to probe (empty list or empty shard)${why}`);
  }
  const local = e.tally.localErrors;
  if (local > 0) {
    const why = [...e.tally.local.keys()].map(escapeText).join(', ');
    notes.push(
      `${local} probe${local === 1 ? '' : 's'} could not be made: this machine ran out of ` +
        `file descriptors or ports (${why}); their results are unknown, not the server's answer ` +
        '(lower --concurrency/--global-concurrency or raise ulimit -n)',
    );
  }
  return notes.map((n) => `msnp-probe: ${n}\n`);
}

/**
 * The one-line summary of an NDJSON run for stderr, as zgrab2 writes its metadata, e.g.
 * `3 targets, 63 probes, 2 answered as MSNP, 1.2 s, 52.5 probes/s`.
 */
export function runSummary(tally: Tally, durationMs: number): string {
  const seconds = Math.max(durationMs, 1) / 1000;
  const t = tally.targets;
  return (
    `${t} target${t === 1 ? '' : 's'}, ${tally.probes} probe${tally.probes === 1 ? '' : 's'}, ` +
    `${tally.answered} answered as MSNP, ${seconds.toFixed(1)} s, ${(tally.probes / seconds).toFixed(1)} probes/s`
  );
}
