import type { ReporterFactory } from './reporter.js';

/** `ndjson`: one JSON object per target and line, as soon as the target is done. */
export const ndjsonReporter: ReporterFactory = (context) => ({
  add: (doc) => context.write(`${JSON.stringify(doc)}\n`),
  end: () => Promise.resolve(),
});
