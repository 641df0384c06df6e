/** The difference between the versions a target accepted and the ones it was expected to accept. */
export interface Expectation {
  expected: number[];
  /** Expected but not accepted. */
  missing: number[];
  /** Accepted but not expected. */
  unexpected: number[];
  met: boolean;
}

export function compareExpected(expected: readonly number[], accepted: readonly number[]): Expectation {
  const exp = [...new Set(expected)].sort((a, b) => a - b);
  const missing = exp.filter((v) => !accepted.includes(v));
  const unexpected = [...new Set(accepted)].filter((v) => !exp.includes(v)).sort((a, b) => a - b);
  return { expected: exp, missing, unexpected, met: missing.length === 0 && unexpected.length === 0 };
}
