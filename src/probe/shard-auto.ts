import { msnpError } from '../core/errors.js';
import { MAX_SHARDS } from '../core/limits.js';
import { parseShard } from './targets.js';

/** Set by a Kubernetes Indexed Job in each pod: its completion index, from 0. */
export const SHARD_INDEX_ENV = 'JOB_COMPLETION_INDEX';
/** The shard count when `--shards` is not given: a manifest can set it once for every pod. */
export const SHARD_COUNT_ENV = 'MSNP_PROBE_SHARDS';

export interface Shard {
  index: number;
  count: number;
}

function count(text: string, source: string): number {
  if (!/^\d{1,6}$/.test(text.trim()) || Number(text) < 1) {
    throw msnpError('ERR_OPTION', `${source}: '${text}' is not a whole number from 1 to ${MAX_SHARDS}`);
  }
  return Number(text);
}

function single(value: unknown, name: string): string {
  if (Array.isArray(value)) throw msnpError('ERR_OPTION', `--${name}: given more than once`);
  if (typeof value !== 'string' && typeof value !== 'number') throw msnpError('ERR_OPTION', `--${name}: needs a value`);
  return String(value);
}

/**
 * `--shard I/N`, or `--shard auto` with the index from JOB_COMPLETION_INDEX (0-based, as Kubernetes
 * counts; our I counts from 1) and the count from `--shards N`, else MSNP_PROBE_SHARDS. Null
 * without `--shard`. Throws MsnpProbeError ERR_OPTION, one line naming the flag or variable.
 */
export function resolveShard(shard: unknown, shards: unknown, env: Record<string, string | undefined>): Shard | null {
  if (shard === undefined) {
    if (shards !== undefined) throw msnpError('ERR_OPTION', '--shards: only with --shard auto');
    return null;
  }
  const text = single(shard, 'shard');
  if (text.trim() !== 'auto') {
    // I/N names its own count: a second one could only disagree with it.
    if (shards !== undefined) throw msnpError('ERR_OPTION', '--shards: only with --shard auto (I/N names its count)');
    try {
      return parseShard(text);
    } catch (err) {
      throw msnpError('ERR_OPTION', `--shard: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const fromEnv = env[SHARD_COUNT_ENV];
  let n: number;
  if (shards !== undefined) n = count(single(shards, 'shards'), '--shards');
  else if (fromEnv !== undefined && fromEnv !== '') n = count(fromEnv, SHARD_COUNT_ENV);
  else throw msnpError('ERR_OPTION', `--shard auto: needs the shard count: --shards N or ${SHARD_COUNT_ENV}=N`);
  const raw = env[SHARD_INDEX_ENV];
  if (raw === undefined || raw === '') {
    const why = 'a Kubernetes Indexed Job sets it; elsewhere use --shard I/N';
    throw msnpError('ERR_OPTION', `--shard auto: ${SHARD_INDEX_ENV} is not set (${why})`);
  }
  if (!/^\d{1,6}$/.test(raw.trim())) {
    throw msnpError('ERR_OPTION', `--shard auto: ${SHARD_INDEX_ENV} '${raw}' is not a whole number`);
  }
  const index = Number(raw);
  if (index >= n) {
    throw msnpError('ERR_OPTION', `--shard auto: ${SHARD_INDEX_ENV} ${index} is outside 0..${n - 1} (${n} shards)`);
  }
  return { index: index + 1, count: n };
}
