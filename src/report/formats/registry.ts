import { csvReporter } from './csv.js';
import { jsonReporter } from './json.js';
import { ndjsonReporter } from './ndjson.js';
import { tableReporter } from './table.js';
import { collecting, type ReporterFactory } from './reporter.js';

/**
 * Every output format `-o FORMAT[:FILE]` accepts. A new format is one file with its factory and
 * one line here; a format that needs the whole run first (a picture) wraps a pure renderer in
 * `collecting(render)` from reporter.ts, e.g. `svg: collecting(renderSvg),`.
 */
export const FORMATS = {
  table: tableReporter,
  json: jsonReporter,
  ndjson: ndjsonReporter,
  csv: csvReporter,
  // One picture of the whole run (loaded only when asked for); past MAX_SVG_TARGETS the first ones are drawn.
  svg: async (context) => {
    const { renderMatrixSvg, MAX_SVG_TARGETS } = await import('../render/svg.js');
    const draw = collecting((docs, c) => renderMatrixSvg(docs.slice(0, MAX_SVG_TARGETS), { versions: c.versions }));
    return draw(context);
  },
} satisfies Record<string, ReporterFactory>;

export type FormatName = keyof typeof FORMATS;

export const FORMAT_NAMES = Object.keys(FORMATS) as FormatName[];

export function isFormatName(name: string): name is FormatName {
  return Object.hasOwn(FORMATS, name);
}
