import { JsonDocumentWriter } from '../render/json-stream.js';
import type { ReporterFactory } from './reporter.js';

/** `json`: one document, streamed in input order (see JsonDocumentWriter). */
export const jsonReporter: ReporterFactory = (context) => {
  const json = new JsonDocumentWriter((text) => context.write(text), context.startedAt, context.options);
  return {
    add: (doc, index) => json.add(index, doc),
    // Nothing to probe (every list line invalid) is a usage error: no document at all.
    end: (run) => (run.unusable ? Promise.resolve() : json.end(run.durationMs, run.interrupted)),
  };
};
