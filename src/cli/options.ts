import { isMsnpProbeError } from '../core/errors.js';
import { formatVersions, parseRange } from '../input/range.js';
import { isValidHandle } from '../codec/deep.js';
import { escapeText } from '../core/escape.js';
import { parseHost, parsePort, parseTarget, type Target } from '../input/target.js';
import { parseFault, type Fault } from '../emulator/faults.js';
import { DEMO_PROFILE, getProfile } from '../emulator/profiles.js';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_FOLLOW_MAX,
  DEFAULT_GLOBAL_CONCURRENCY,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_VERSIONS,
  defaultPortFor,
} from '../core/defaults.js';
import { OPTION_LIMITS } from '../core/limits.js';
import type { ScanOptions } from '../probe/scan.js';
import { filteredLookup } from '../input/family.js';
import { parseProxy, type ProxySpec } from '../transport/socks.js';
import { FORMAT_NAMES, isFormatName, type FormatName } from '../report/formats/registry.js';
import type { TransportName } from '../core/model.js';
import { resolveShard } from '../probe/shard-auto.js';
import { parseDuration } from '../input/duration.js';
import type { AddressFilter, TargetBlock } from '../input/address.js';
import { buildExclude, ExcludeError } from '../input/exclude.js';
import { parseBlockTarget } from '../probe/targets.js';

/** A bad command line: the CLI prints `msnp-probe: <message>` and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Runs a parser and names the flag in its error message. */
function flag<T>(name: string, value: unknown, parse: (text: string) => T): T {
  try {
    if (Array.isArray(value)) throw new UsageError('given more than once');
    if (typeof value !== 'string' && typeof value !== 'number') throw new UsageError('needs a value');
    return parse(String(value));
  } catch (err) {
    const message = isMsnpProbeError(err) || err instanceof UsageError ? err.message : String(err);
    throw new UsageError(`--${name}: ${message}`);
  }
}

/** A pure parser's MsnpProbeError as the UsageError callers of the plan functions expect. */
function asUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw isMsnpProbeError(err) ? new UsageError(err.message) : err;
  }
}

function wholeNumber(min: number, max: number, unit: string): (text: string) => number {
  return (text) => {
    if (!/^\d{1,9}$/.test(text.trim())) throw new UsageError(`'${text}' is not a whole number of ${unit}`);
    const n = Number(text);
    if (n < min || n > max) throw new UsageError(`${n} is outside ${min}..${max}`);
    return n;
  };
}

/** A whole number within the option's bounds in limits.ts, which the library checks too. */
function limited(option: keyof typeof OPTION_LIMITS, unit: string): (text: string) => number {
  const { min, max } = OPTION_LIMITS[option];
  return wholeNumber(min, max, unit);
}

/** A time: bare milliseconds or a number with a unit (5s, 500ms, 1m). */
function duration(min: number, max: number): (text: string) => number {
  return (text) => {
    try {
      return parseDuration(text, min, max);
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
  };
}

export type Args = Record<string, unknown>;

export type OutputMode = FormatName;

/** `-o FORMAT:FILE`: a format written to a file, alongside what goes to standard output. */
export interface OutputFile {
  format: FormatName;
  file: string;
}

export interface ProbePlan {
  /** Targets named on the command line (positional or --host). */
  targets: Target[];
  /** `--targets FILE` or `-` for standard input. */
  targetsFile: string | null;
  /** CIDR blocks and ranges named on the command line, expanded lazily when probed. */
  blocks?: TargetBlock[];
  /** --exclude / --exclude-file: never probed, nor resolved; null when none. */
  exclude?: AddressFilter | null;
  /** The port of a target given without one: `--port`, else 1863 (80 with `--transport http`). */
  defaultPort: number;
  versions: number[];
  timeoutMs: number;
  concurrency: number;
  globalConcurrency: number;
  /** --workers: threads probing a list (src/cli/workers.ts); undefined: one per core. */
  workers?: number;
  offer: boolean;
  ratePerSecond: number;
  retries: number;
  attempts: number;
  expect: number[] | null;
  baselineFile: string | null;
  shard: { index: number; count: number } | null;
  /** The format on standard output. */
  output: OutputMode;
  /** `-o FORMAT:FILE`, each once: formats written to files as well. */
  outputFiles: OutputFile[];
  /** --progress / --no-progress; undefined: when stderr is a TTY. */
  progress: boolean | undefined;
  deep: boolean;
  follow: boolean;
  /** --follow-any: lift the follow policy. */
  followAny: boolean;
  /** --follow-max N: servers followed per starting target. */
  followMax: number;
  transcript: boolean;
  verbose: boolean;
  transport: TransportName;
  gatewayNsHost: string | undefined;
  /** --handle: the account a deep probe names (a test account of the operator's own server). */
  handle: string | undefined;
  /** --fingerprint: behavioural probes naming the implementation. */
  fingerprint: boolean;
  /** --proxy socks5://HOST:PORT or socks5h://: every connection goes through this SOCKS5 proxy. */
  proxy: ProxySpec | undefined;
  /** -4 / -6: the address family a name is resolved to; undefined: either. */
  family: 4 | 6 | undefined;
}

function defaultPortOf(args: Args): number {
  if (args['port'] !== undefined) return flag('port', args['port'], (t) => parsePort(t));
  return defaultPortFor(args['transport'] === 'http' ? 'http' : 'tcp');
}

export function probePlan(args: Args, given: readonly string[]): ProbePlan {
  // yargs reads `--targets -` as an empty --targets plus a positional `-`: both mean standard input.
  const positional = given.filter((t) => t !== '-');
  if (positional.length !== given.length) {
    if (args['targets'] !== undefined && args['targets'] !== '')
      throw new UsageError('--targets: give one list (a FILE or -)');
    args = { ...args, targets: '-' };
  }
  const port = defaultPortOf(args);
  const targets: Target[] = [];
  if (args['host'] !== undefined) {
    targets.push({ host: flag('host', args['host'], parseHost), port });
  }
  const blocks: TargetBlock[] = [];
  for (const text of positional) {
    try {
      const block = parseBlockTarget(text, port);
      if (block) blocks.push(block);
      else targets.push(parseTarget(text, port));
    } catch (err) {
      throw new UsageError(`target '${text}': ${isMsnpProbeError(err) ? err.message : String(err)}`);
    }
  }
  const targetsFile =
    args['targets'] === undefined
      ? null
      : flag('targets', args['targets'], (t) => {
          if (t.trim() === '') throw new UsageError('needs a file name, or - for standard input');
          return t;
        });
  if (targets.length === 0 && blocks.length === 0 && targetsFile === null) {
    throw new UsageError(
      'no target: give HOST[:PORT], --host or --targets FILE (try `msnp-probe demo` for a local demo)',
    );
  }
  const exclude = excludeOf(args);
  return { targets, targetsFile, blocks, exclude, defaultPort: port, ...commonProbeOptions(args) };
}

function excludeOf(args: Args): AddressFilter | null {
  const given = args['exclude'];
  const values = given === undefined ? [] : Array.isArray(given) ? given.map(String) : [String(given)];
  const fileArg = args['exclude-file'];
  const file = fileArg === undefined ? null : flag('exclude-file', fileArg, nonEmpty('a file name'));
  try {
    return buildExclude(values, file);
  } catch (err) {
    if (!(err instanceof ExcludeError)) throw err;
    throw new UsageError(`--exclude${err.fromFile ? '-file' : ''}: ${err.message}`);
  }
}

/** Options shared by `msnp-probe HOST` and `msnp-probe demo`. */
export function commonProbeOptions(args: Args): Omit<ProbePlan, 'targets' | 'targetsFile' | 'defaultPort'> {
  if (args['json'] === true && args['ndjson'] === true) throw new UsageError('--json and --ndjson: choose one output');
  const outputs = outputsOf(args);
  const jsonSomewhere = [outputs.output, ...outputs.outputFiles.map((o) => o.format)].some((f) => f.endsWith('json'));
  // Transcripts only reach the JSON (or stderr with --verbose): a table run would drop them silently.
  if (args['transcript'] === true && !jsonSomewhere && args['verbose'] !== true) {
    const why = 'add --json or --ndjson, or use --verbose to print them';
    throw new UsageError(`--transcript keeps bytes in the JSON: ${why}`);
  }
  if (args['handle'] !== undefined && args['deep'] !== true && args['follow'] !== true) {
    throw new UsageError('--handle is only sent by --deep (or --follow)');
  }
  if (args['ipv4'] === true && args['ipv6'] === true) throw new UsageError('-4 and -6: choose one address family');
  const common: Omit<ProbePlan, 'targets' | 'targetsFile' | 'defaultPort'> = {
    versions: args['range'] === undefined ? [...DEFAULT_VERSIONS] : flag('range', args['range'], parseRange),
    timeoutMs:
      args['timeout'] === undefined
        ? DEFAULT_TIMEOUT_MS
        : flag('timeout', args['timeout'], duration(OPTION_LIMITS.timeoutMs.min, OPTION_LIMITS.timeoutMs.max)),
    concurrency:
      args['concurrency'] === undefined
        ? DEFAULT_CONCURRENCY
        : flag('concurrency', args['concurrency'], limited('concurrency', 'connections')),
    globalConcurrency:
      args['global-concurrency'] === undefined
        ? DEFAULT_GLOBAL_CONCURRENCY
        : flag('global-concurrency', args['global-concurrency'], limited('globalConcurrency', 'connections')),
    ...(args['workers'] === undefined
      ? {}
      : { workers: flag('workers', args['workers'], limited('workers', 'threads')) }),
    offer: args['offer'] !== false,
    ratePerSecond:
      args['rate'] === undefined ? 0 : flag('rate', args['rate'], positiveNumber('connections per second')),
    retries: args['retries'] === undefined ? 0 : flag('retries', args['retries'], limited('retries', 'retries')),
    attempts: args['attempts'] === undefined ? 1 : flag('attempts', args['attempts'], limited('attempts', 'attempts')),
    expect:
      args['expect'] === undefined
        ? null
        : flag('expect', args['expect'], (t) => (t.trim().toLowerCase() === 'none' ? [] : parseRange(t))),
    baselineFile: args['baseline'] === undefined ? null : flag('baseline', args['baseline'], nonEmpty('a file name')),
    shard: asUsage(() => resolveShard(args['shard'], args['shards'], process.env)),
    ...outputs,
    progress: typeof args['progress'] === 'boolean' ? args['progress'] : undefined,
    deep: args['deep'] === true || args['follow'] === true,
    follow: args['follow'] === true,
    followAny: args['follow-any'] === true,
    followMax:
      args['follow-max'] === undefined
        ? DEFAULT_FOLLOW_MAX
        : flag('follow-max', args['follow-max'], limited('followMax', 'servers')),
    transcript: args['transcript'] === true || args['verbose'] === true,
    verbose: args['verbose'] === true,
    transport: args['transport'] === undefined ? 'tcp' : flag('transport', args['transport'], transportName),
    gatewayNsHost: args['gateway-ns'] === undefined ? undefined : flag('gateway-ns', args['gateway-ns'], parseHost),
    handle: args['handle'] === undefined ? undefined : flag('handle', args['handle'], handleOf),
    fingerprint: args['fingerprint'] === true,
    proxy: args['proxy'] === undefined ? undefined : flag('proxy', args['proxy'], parseProxy),
    family: args['ipv4'] === true ? 4 : args['ipv6'] === true ? 6 : undefined,
  };
  if (common.proxy && common.transport !== 'tcp') throw new UsageError('--proxy: carries the tcp transport only');
  // Following resolves the names redirects give on this machine: the lookups socks5h is there to avoid.
  if (common.proxy?.protocol === 'socks5h' && common.follow) {
    throw new UsageError('--proxy socks5h: --follow would resolve redirect names here; use socks5:// or drop --follow');
  }
  checkExpectWithinRange(common.expect, common.versions);
  // A follow limit without --follow would be silently ignored: say so rather than run unfollowed.
  for (const name of ['follow-any', 'follow-max']) {
    const given = args[name] !== undefined && args[name] !== false;
    if (given && !common.follow) throw new UsageError(`--${name}: only with --follow`);
  }
  return common;
}

/** What the plan asks of `scan()`: the validated values, named as the library names them. */
export function scanOptionsOf(plan: Omit<ProbePlan, 'targets' | 'targetsFile' | 'defaultPort'>): ScanOptions {
  return {
    versions: plan.versions,
    timeoutMs: plan.timeoutMs,
    concurrency: plan.concurrency,
    globalConcurrency: plan.globalConcurrency,
    offer: plan.offer,
    ratePerSecond: plan.ratePerSecond,
    retries: plan.retries,
    attempts: plan.attempts,
    deep: plan.deep,
    follow: plan.follow,
    followAny: plan.followAny,
    followMax: plan.followMax,
    ...(plan.exclude ? { exclude: (host: string) => plan.exclude?.excludes(host) ?? false } : {}),
    transcript: plan.transcript,
    transport: plan.transport,
    ...(plan.gatewayNsHost !== undefined ? { gatewayNsHost: plan.gatewayNsHost } : {}),
    ...(plan.handle !== undefined ? { handle: plan.handle } : {}),
    ...(plan.fingerprint ? { fingerprint: true } : {}),
    ...(plan.proxy ? { proxy: plan.proxy } : {}),
    ...(plan.family !== undefined || plan.exclude ? { lookup: filteredLookup(plan) } : {}),
  };
}

/**
 * An expectation naming versions the run will not probe could only ever report them missing, or,
 * narrowed silently to the range, pass a check the user never asked to weaken: a usage error.
 */
function checkExpectWithinRange(expect: readonly number[] | null, versions: readonly number[]): void {
  const outside = (expect ?? []).filter((v) => !versions.includes(v));
  if (outside.length === 0) return;
  const verb = outside.length === 1 ? 'is' : 'are';
  const range = formatVersions(versions);
  const fix = 'widen --range or narrow --expect';
  throw new UsageError(`--expect: ${formatVersions(outside)} ${verb} outside --range ${range} (never probed); ${fix}`);
}

/**
 * `-o FORMAT[:FILE]`, repeatable, with `--json`/`--ndjson` as shorthands for `-o json`/`-o ndjson`:
 * at most one format on standard output (the table when none is named), each file named once.
 */
function outputsOf(args: Args): Pick<ProbePlan, 'output' | 'outputFiles'> {
  const given = args['output'] === undefined ? [] : ([] as unknown[]).concat(args['output']);
  const shorthand = args['json'] === true ? 'json' : args['ndjson'] === true ? 'ndjson' : null;
  let stdout: FormatName | null = shorthand;
  const outputFiles: OutputFile[] = [];
  for (const value of given) {
    const spec = flag('output', value, (t) => outputSpec(t));
    if (spec.file === null) {
      if (stdout !== null && stdout !== spec.format) {
        throw new UsageError(`--output: ${stdout} and ${spec.format} both on standard output; give one a :FILE`);
      }
      stdout = spec.format;
    } else if (outputFiles.some((o) => o.file === spec.file)) {
      throw new UsageError(`--output: '${escapeText(spec.file)}' named twice`);
    } else {
      outputFiles.push({ format: spec.format, file: spec.file });
    }
  }
  return { output: stdout ?? 'table', outputFiles };
}

function outputSpec(text: string): { format: FormatName; file: string | null } {
  const colon = text.indexOf(':');
  const name = (colon < 0 ? text : text.slice(0, colon)).trim().toLowerCase();
  const file = colon < 0 ? null : text.slice(colon + 1);
  if (!isFormatName(name)) throw new UsageError(`'${escapeText(name)}' is not a format (${FORMAT_NAMES.join(', ')})`);
  if (file !== null && file.trim() === '') {
    throw new UsageError(`${name}: needs a file name after the colon, or - for stdout`);
  }
  return { format: name, file: file === '-' ? null : file };
}

function handleOf(text: string): string {
  if (!isValidHandle(text)) throw new UsageError(`'${escapeText(text)}' is not an e-mail-like handle (name@domain)`);
  return text;
}

function transportName(text: string): TransportName {
  if (text !== 'tcp' && text !== 'http') throw new UsageError(`'${text}' is not tcp or http`);
  return text;
}

function positiveNumber(unit: string): (text: string) => number {
  return (text) => {
    if (!/^\d{1,6}(\.\d{1,3})?$/.test(text.trim()) || Number(text) <= 0)
      throw new UsageError(`'${text}' is not a positive number of ${unit}`);
    return Number(text);
  };
}

function nonEmpty(what: string): (text: string) => string {
  return (text) => {
    if (text.trim() === '') throw new UsageError(`needs ${what}`);
    return text;
  };
}

export interface ServePlan {
  profile: string;
  host: string;
  port: number;
  versions: number[] | undefined;
  faults: Fault[];
  delayMs: number;
  idleTimeoutMs: number;
  maxConnections: number;
  transport: TransportName;
  dispatch: boolean;
}

export function servePlan(args: Args, defaultPort: number): ServePlan {
  const profile =
    args['profile'] === undefined ? DEMO_PROFILE : flag('profile', args['profile'], (t) => getProfile(t).name);
  const faultArgs =
    args['fault'] === undefined
      ? []
      : Array.isArray(args['fault'])
        ? args['fault'].map(String)
        : [String(args['fault'])];
  return {
    profile,
    host: args['host'] === undefined ? '127.0.0.1' : flag('host', args['host'], parseHost),
    port: args['port'] === undefined ? defaultPort : flag('port', args['port'], wholeNumber(0, 65535, 'port')),
    versions: args['versions'] === undefined ? undefined : flag('versions', args['versions'], parseRange),
    faults: faultArgs.map((f) => flag('fault', f, parseFault)),
    delayMs: args['delay'] === undefined ? 0 : flag('delay', args['delay'], duration(0, 600_000)),
    idleTimeoutMs:
      args['idle-timeout'] === undefined ? 60_000 : flag('idle-timeout', args['idle-timeout'], duration(1, 3_600_000)),
    maxConnections:
      args['max-connections'] === undefined
        ? 1024
        : flag('max-connections', args['max-connections'], wholeNumber(1, 100_000, 'connections')),
    transport: args['transport'] === undefined ? 'tcp' : flag('transport', args['transport'], transportName),
    dispatch: args['dispatch'] !== false,
  };
}
