import { baselineLines, expectationLines } from '../render/lines.js';
import { wrapText } from '../../core/fit.js';
import type { ReporterFactory } from './reporter.js';

/**
 * `table`: one target in full (a table per version), or a matrix with a row per target as each
 * finishes. The table modules (cli-table3 and its width tables) load only when a table is written.
 */
export const tableReporter: ReporterFactory = async (context) => {
  if (context.detailed) {
    const text = await import('../render/text.js');
    return {
      add: async (doc) => {
        await context.write(text.renderTarget(doc, { color: context.color, width: context.width ?? null }));
        // Differences are listed after the run; a met check's notes belong under its table.
        const notes: string[] = [];
        if (doc.expectation?.met) notes.push(...expectationLines(doc.expectation));
        if (doc.baseline?.met) {
          const lines = baselineLines(doc.baseline);
          notes.push(...(lines.length ? lines : ['baseline: no difference']));
        }
        const fitted = notes.flatMap((line) => wrapText(line, context.width));
        if (fitted.length) await context.write(`${fitted.join('\n')}\n`);
      },
      end: () => Promise.resolve(),
    };
  }
  const matrix = await import('../render/matrix.js');
  const width = context.width ?? null;
  const printer = new matrix.MatrixPrinter(context.versions, context.color, context.fingerprint, width);
  // The header waits for the first row: a list with no usable line prints nothing.
  let rows = 0;
  return {
    add: async (doc) => {
      if (rows++ === 0) await context.write(printer.header());
      await context.write(printer.row(doc));
    },
    end: async (run) => {
      if (run.targets === 0) return;
      const s = run.targets === 1 ? '' : 's';
      await context.write(
        `${matrix.matrixLegend(width)}\n${run.targets} target${s}, ${run.answered} answered as MSNP\n`,
      );
    },
  };
};
