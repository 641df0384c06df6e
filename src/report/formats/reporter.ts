import type { RunOptions, TargetDocument } from '../render/json.js';

/** What every output format is given: where to write, and what the run probes. */
export interface ReporterContext {
  /** Writes with back-pressure: resolves once the destination has taken the text (or has failed). */
  write(text: string): Promise<void>;
  /** The versions probed, ascending (the matrix's columns). */
  versions: readonly number[];
  /** Colour for a terminal; always false for a file. */
  color: boolean;
  /** The terminal's width for a table to fit; null or absent (a file, a pipe): as wide as the content. */
  width?: number | null;
  /** Whether `--fingerprint` was asked for. */
  fingerprint: boolean;
  /** One target named on the command line and no list: the table shows it in full rather than as a row. */
  detailed: boolean;
  startedAt: Date;
  /** Run-wide options a format may record (the JSON document's `options`). */
  options?: RunOptions;
}

/** How the run ended, for a format's closing lines. */
export interface RunEnd {
  durationMs: number;
  /** Stopped by SIGINT or SIGTERM: what was written is all that finished. */
  interrupted: boolean;
  /** Targets reported. */
  targets: number;
  /** Of them, those that answered as MSNP. */
  answered: number;
  /** Every line of the target list was invalid: a usage error, and a format writes nothing more. */
  unusable: boolean;
}

/**
 * One output format. `add` gets each finished target (its index in input order: a target probed
 * with `--follow` brings one document per server it reached), `end` closes the output.
 */
export interface Reporter {
  add(doc: TargetDocument, index: number): Promise<void>;
  end(run: RunEnd): Promise<void>;
}

export type ReporterFactory = (context: ReporterContext) => Reporter | Promise<Reporter>;

/**
 * A format that needs every target before it can write anything (a picture, a chart): `render`
 * turns the documents, in input order, into the whole output. Memory grows with the run.
 */
export function collecting(render: (docs: TargetDocument[], context: ReporterContext) => string): ReporterFactory {
  return (context) => {
    const docs: { index: number; doc: TargetDocument }[] = [];
    return {
      add: (doc, index) => {
        docs.push({ index, doc });
        return Promise.resolve();
      },
      end: (run) => {
        if (run.unusable) return Promise.resolve();
        // A stable sort keeps a followed target's documents in the order they came.
        return context.write(
          render(
            docs.sort((a, b) => a.index - b.index).map((d) => d.doc),
            context,
          ),
        );
      },
    };
  };
}
