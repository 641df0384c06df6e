import type { TargetReport } from '../../core/model.js';
import { PACKAGE } from '../../core/version.js';
import type { Expectation } from '../../verdict/expect.js';
import type { BaselineComparison } from '../../verdict/baseline.js';

/** Bumped only on a change that breaks readers; new optional fields do not bump it. */
export const SCHEMA_VERSION = 1;

export type TargetDocument = TargetReport & { expectation?: Expectation; baseline?: BaselineComparison };

/** The options that shaped the whole run, when given (`--max-rate`). */
export interface RunOptions {
  /** `--max-rate`: new connections per second across the run. */
  maxRate?: number;
}

export interface ReportDocument {
  schemaVersion: typeof SCHEMA_VERSION;
  tool: { name: string; version: string };
  /** ISO 8601 time the run started. */
  startedAt: string;
  /** Present when the run had options worth recording for a reader comparing runs. */
  options?: RunOptions;
  durationMs: number;
  targets: TargetDocument[];
  /** Present (true) when SIGINT or SIGTERM stopped the run: `targets` holds only what finished. */
  interrupted?: boolean;
}

export function buildDocument(targets: TargetDocument[], startedAt: Date, durationMs: number): ReportDocument {
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: PACKAGE.name, version: PACKAGE.version },
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(durationMs),
    targets,
  };
}
