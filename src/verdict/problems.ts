import { escapeText } from '../core/escape.js';
import { formatTarget } from '../input/target.js';
import { baselineLines, expectationLines } from '../report/render/lines.js';
import type { TargetDocument } from '../report/render/json.js';

/**
 * What a judged target's checks found that the user must read: an unmet expectation, baseline
 * differences. Null when there is nothing to say. `metShown`: the output already lists a met
 * baseline's notes under the target (the single-target table), so they are not repeated.
 */
export function checkProblems(doc: TargetDocument, metShown: boolean): string | null {
  const lines = [
    ...(doc.expectation && !doc.expectation.met ? expectationLines(doc.expectation) : []),
    ...(doc.baseline && !(metShown && doc.baseline.met) ? baselineLines(doc.baseline) : []),
  ];
  if (lines.length === 0) return null;
  return `${escapeText(formatTarget(doc))}:\n${lines.map((l) => `  ${l}`).join('\n')}`;
}
