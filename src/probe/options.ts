import {
  DEFAULT_CONCURRENCY,
  DEFAULT_FOLLOW_MAX,
  DEFAULT_GLOBAL_CONCURRENCY,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_VERSIONS,
} from '../core/defaults.js';
import { defaultPortFor } from '../transport/registry.js';
import { MsnpProbeError, type MsnpErrorCode } from '../core/errors.js';
import { OPTION_LIMITS } from '../core/limits.js';
import type { TransportName } from '../core/model.js';

/**
 * The one check of the numeric knobs a probe or a scan is given: bounds from limits.ts, defaults
 * from defaults.ts. `probe()` and `scan()` call it, and so does the CLI (on what it parsed from the
 * command line), so both reject the same values with the same words.
 */

/** The options `checkOptions` reads; every one may be left out for its default. */
export interface NumericOptions {
  port?: number | undefined;
  transport?: TransportName | undefined;
  versions?: readonly number[] | undefined;
  timeoutMs?: number | undefined;
  concurrency?: number | undefined;
  globalConcurrency?: number | undefined;
  retries?: number | undefined;
  attempts?: number | undefined;
  ratePerSecond?: number | undefined;
  /** New connections per second across a whole run (fractional allowed); absent: no limit. */
  maxRate?: number | undefined;
  followMax?: number | undefined;
}

/** The same options checked, with every default filled in; versions deduplicated and ascending. */
export interface CheckedOptions {
  port: number;
  versions: number[];
  timeoutMs: number;
  concurrency: number;
  globalConcurrency: number;
  retries: number;
  attempts: number;
  ratePerSecond: number;
  maxRate?: number;
  followMax: number;
}

export type OptionName = keyof CheckedOptions;

/** A bad option value: `option` names it as the library does, `detail` says what is wrong with it. */
export class OptionValueError extends MsnpProbeError {
  constructor(
    code: MsnpErrorCode,
    readonly option: OptionName,
    readonly detail: string,
    message = `${option}: ${detail}`,
  ) {
    super(code, message);
  }
}

/** Throws OptionValueError (an MsnpProbeError) on the first value out of bounds. */
export function checkOptions(options: NumericOptions): CheckedOptions {
  const checked: CheckedOptions = {
    port: options.port ?? defaultPortFor(options.transport),
    // Checked last, after the other options, as it always was (see below).
    versions: [],
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
    globalConcurrency: options.globalConcurrency ?? DEFAULT_GLOBAL_CONCURRENCY,
    retries: options.retries ?? 0,
    attempts: options.attempts ?? 1,
    ratePerSecond: options.ratePerSecond ?? 0,
    followMax: options.followMax ?? DEFAULT_FOLLOW_MAX,
  };
  within('port', checked.port, OPTION_LIMITS.port, 'ERR_TARGET');
  for (const name of ['timeoutMs', 'concurrency', 'globalConcurrency', 'retries', 'attempts', 'followMax'] as const) {
    within(name, checked[name], OPTION_LIMITS[name], 'ERR_OPTION');
  }
  const rate = checked.ratePerSecond;
  if (!Number.isFinite(rate) || rate < 0) {
    throw new OptionValueError('ERR_OPTION', 'ratePerSecond', `${rate} must be 0 or more per second`);
  }
  if (options.maxRate !== undefined) checked.maxRate = checkMaxRate(options.maxRate);
  checked.versions = checkedVersions(options.versions ?? DEFAULT_VERSIONS);
  return checked;
}

/**
 * The last list of versions checked, as given and as checked: `probe()` checks its options once
 * per target, and a scan gives every target the same list, so deduplicating, sorting and bounding
 * it again each time was paid thousands of times for the same answer.
 */
let lastVersions: { given: number[]; checked: readonly number[] } | undefined;

function checkedVersions(given: readonly number[]): number[] {
  const last = lastVersions;
  if (last && last.given.length === given.length && last.given.every((v, i) => v === given[i])) {
    return last.checked.slice();
  }
  const checked = [...new Set(given)].sort((a, b) => a - b);
  if (checked.length === 0) throw new OptionValueError('ERR_RANGE', 'versions', 'no versions to probe');
  for (const v of checked) within('versions', v, VERSION_BOUNDS, 'ERR_RANGE', 'version ');
  // Only a valid list is remembered: a bad one throws again every time.
  lastVersions = { given: [...given], checked: checked.slice() };
  return checked;
}

const VERSION_BOUNDS = { min: 1, max: 99 } as const;

function within(
  option: OptionName,
  value: number,
  bounds: { min: number; max: number },
  code: MsnpErrorCode,
  prefix = option === 'port' ? 'port ' : '',
): void {
  if (Number.isInteger(value) && value >= bounds.min && value <= bounds.max) return;
  const detail = `${prefix}${value} is outside ${bounds.min}..${bounds.max}`;
  // `port 0 is outside...` names itself already.
  throw new OptionValueError(code, option, detail, prefix === '' ? `${option}: ${detail}` : detail);
}

function checkMaxRate(rate: number): number {
  const { min, max } = OPTION_LIMITS.maxRate;
  if (Number.isFinite(rate) && rate >= min && rate <= max) return rate;
  throw new OptionValueError('ERR_OPTION', 'maxRate', `${rate} is outside ${min}..${max} connections per second`);
}
