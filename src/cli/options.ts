import { isMsnpProbeError } from '../core/errors.js';
import { formatVersions, parseRange } from '../input/range.js';
import { isValidHandle } from '../codec/deep.js';
import { escapeText } from '../core/escape.js';
import { parseHost, parsePort, parseTarget, type Target } from '../input/target.js';
import { parseFault, type Fault } from '../emulator/faults.js';
import { DEMO_PROFILE, getProfile } from '../emulator/profiles.js';
import { DEFAULT_TRANSPORT, defaultPortFor, isTransportName, TRANSPORT_NAMES } from '../transport/registry.js';
import type { ScanOptions } from '../probe/scan.js';
import { checkOptions, OptionValueError, type CheckedOptions, type OptionName } from '../probe/options.js';
import { filteredLookup } from '../input/family.js';
import { parseProxy } from '../transport/socks.js';
import { FORMAT_NAMES, isFormatName, type FormatName } from '../report/formats/registry.js';
import type { TransportName } from '../core/model.js';
import { resolveShard } from '../probe/shard-auto.js';
import { parseDuration } from '../input/duration.js';
import type { AddressFilter, TargetBlock } from '../input/address.js';
import { buildExclude, ExcludeError } from '../input/exclude.js';
import { parseBlockTarget } from '../probe/targets.js';
import { OPTION_LIMITS } from '../core/limits.js';

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

/** A whole number; its bounds are the library's to check (checkOptions), as for every caller. */
function count(unit: string): (text: string) => number {
  return wholeNumber(0, Number.MAX_SAFE_INTEGER, unit);
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

/** The scan options of a plan: those the CLI reads back (versions, transport...) always set. */
export type PlannedScan = ScanOptions &
  Omit<CheckedOptions, 'port'> &
  Required<Pick<ScanOptions, 'offer' | 'deep' | 'follow' | 'followAny' | 'transcript' | 'transport' | 'fingerprint'>>;

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
  /** What `scan()` is handed, checked by the library's checkOptions: every default filled in. */
  scan: PlannedScan;
  expect: number[] | null;
  baselineFile: string | null;
  shard: { index: number; count: number } | null;
  /** The format on standard output. */
  output: OutputMode;
  /** `-o FORMAT:FILE`, each once: formats written to files as well. */
  outputFiles: OutputFile[];
  /** --progress / --no-progress; undefined: when stderr is a TTY. */
  progress: boolean | undefined;
  /** -q, --quiet: nothing on standard output, no progress nor problem lines; errors and files only. */
  quiet: boolean;
  verbose: boolean;
  /** -4 / -6: the address family a name is resolved to; undefined: either. */
  family: 4 | 6 | undefined;
  /** --workers: threads probing a list (src/cli/workers.ts); undefined: one per core. */
  workers?: number;
}

function defaultPortOf(args: Args): number {
  if (args['port'] !== undefined) return flag('port', args['port'], (t) => parsePort(t));
  return defaultPortFor(isTransportName(args['transport']) ? args['transport'] : DEFAULT_TRANSPORT);
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
  const common = commonProbeOptions(args);
  return { targets, targetsFile, blocks, exclude, defaultPort: port, ...common, scan: excluding(common, exclude) };
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
  if (args['quiet'] === true) quietAlone(args, outputs);
  const follow = args['follow'] === true;
  const common: Omit<ProbePlan, 'targets' | 'targetsFile' | 'defaultPort'> = {
    scan: scanOptionsOf(args, follow),
    expect:
      args['expect'] === undefined
        ? null
        : flag('expect', args['expect'], (t) => (t.trim().toLowerCase() === 'none' ? [] : parseRange(t))),
    baselineFile: args['baseline'] === undefined ? null : flag('baseline', args['baseline'], nonEmpty('a file name')),
    shard: asUsage(() => resolveShard(args['shard'], args['shards'], process.env)),
    ...outputs,
    progress: typeof args['progress'] === 'boolean' ? args['progress'] : undefined,
    quiet: args['quiet'] === true,
    verbose: args['verbose'] === true,
    family: args['ipv4'] === true ? 4 : args['ipv6'] === true ? 6 : undefined,
    ...(args['workers'] === undefined
      ? {}
      : {
          workers: flag(
            'workers',
            args['workers'],
            wholeNumber(OPTION_LIMITS.workers.min, OPTION_LIMITS.workers.max, 'threads'),
          ),
        }),
  };
  common.scan = withFamily(common);
  // Following resolves the names redirects give on this machine: the lookups socks5h is there to avoid.
  if (common.scan.proxy?.protocol === 'socks5h' && follow) {
    throw new UsageError('--proxy socks5h: --follow would resolve redirect names here; use socks5:// or drop --follow');
  }
  checkExpectWithinRange(common.expect, common.scan.versions);
  // A follow limit without --follow would be silently ignored: say so rather than run unfollowed.
  for (const name of ['follow-any', 'follow-max']) {
    const given = args[name] !== undefined && args[name] !== false;
    if (given && !follow) throw new UsageError(`--${name}: only with --follow`);
  }
  return common;
}

/** The flag of each option the library checks, for its errors. */
const FLAG_OF: Record<OptionName, string> = {
  port: 'port',
  versions: 'range',
  timeoutMs: 'timeout',
  concurrency: 'concurrency',
  globalConcurrency: 'global-concurrency',
  retries: 'retries',
  attempts: 'attempts',
  ratePerSecond: 'rate',
  maxRate: 'max-rate',
  followMax: 'follow-max',
};

/** The options handed to `scan()`, parsed from their flags and checked (bounds, defaults) by the library. */
function scanOptionsOf(args: Args, follow: boolean): PlannedScan {
  const given = <T>(name: string, parse: (text: string) => T): T | undefined =>
    args[name] === undefined ? undefined : flag(name, args[name], parse);
  const transport = given('transport', transportName) ?? DEFAULT_TRANSPORT;
  let checked: CheckedOptions;
  try {
    checked = checkOptions({
      transport,
      versions: given('range', parseRange),
      timeoutMs: given('timeout', duration(0, Number.MAX_SAFE_INTEGER)),
      concurrency: given('concurrency', count('connections')),
      globalConcurrency: given('global-concurrency', count('connections')),
      ratePerSecond: given('rate', positiveNumber('connections per second')),
      maxRate: given('max-rate', positiveNumber('connections per second')),
      retries: given('retries', count('retries')),
      attempts: given('attempts', count('attempts')),
      followMax: given('follow-max', count('servers')),
    });
  } catch (err) {
    if (err instanceof OptionValueError) throw new UsageError(`--${FLAG_OF[err.option]}: ${err.detail}`);
    throw err;
  }
  const { port: _port, ...numbers } = checked;
  const gatewayNsHost = given('gateway-ns', parseHost);
  const handle = given('handle', handleOf);
  const proxy = given('proxy', parseProxy);
  return {
    ...numbers,
    offer: args['offer'] !== false,
    deep: args['deep'] === true || follow,
    follow,
    followAny: args['follow-any'] === true,
    transcript: args['transcript'] === true || args['verbose'] === true,
    transport,
    fingerprint: args['fingerprint'] === true,
    ...(gatewayNsHost !== undefined ? { gatewayNsHost } : {}),
    ...(handle !== undefined ? { handle } : {}),
    ...(proxy !== undefined ? { proxy } : {}),
  };
}

/** A plan's scan options with --exclude applied: to the targets, to redirects and to resolved addresses. */
/** The scan options with the -4/-6 lookup filter, when a family is chosen. */
function withFamily(common: Pick<ProbePlan, 'scan' | 'family'>): PlannedScan {
  return common.family === undefined ? common.scan : { ...common.scan, lookup: filteredLookup(common) };
}

/**
 * The plan's scan options with their functions (the -4/-6 lookup, --exclude) rebuilt from its data:
 * functions do not cross to a worker thread, the plan's data does.
 */
export function scanWithFilters(plan: Pick<ProbePlan, 'scan' | 'family' | 'exclude'>): PlannedScan {
  const { lookup: _lookup, exclude: _exclude, ...data } = plan.scan;
  return excluding(
    { scan: withFamily({ scan: data as PlannedScan, family: plan.family }), family: plan.family },
    plan.exclude ?? null,
  );
}

function excluding(common: Pick<ProbePlan, 'scan' | 'family'>, exclude: AddressFilter | null): PlannedScan {
  if (!exclude) return common.scan;
  const excludes = (host: string): boolean => exclude.excludes(host);
  return { ...common.scan, exclude: excludes, lookup: filteredLookup({ family: common.family, exclude }) };
}

/**
 * --quiet promises an empty standard output: a format asked for there, or lines asked for on
 * stderr, contradict it.
 */
function quietAlone(args: Args, outputs: Pick<ProbePlan, 'output'>): void {
  const stdout = args['json'] === true || args['ndjson'] === true || outputs.output !== 'table';
  const namedTable = ([] as unknown[]).concat(args['output'] ?? []).some((o) => outputSpec(String(o)).file === null);
  if (stdout || namedTable)
    throw new UsageError('--quiet writes nothing on stdout: write the output to -o FORMAT:FILE');
  if (args['verbose'] === true) throw new UsageError('--quiet and --verbose: choose one');
  if (args['progress'] === true) throw new UsageError('--quiet and --progress: choose one');
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
  if (!isTransportName(text)) throw new UsageError(`'${escapeText(text)}' is not ${TRANSPORT_NAMES.join(' or ')}`);
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
    transport:
      args['transport'] === undefined ? DEFAULT_TRANSPORT : flag('transport', args['transport'], transportName),
    dispatch: args['dispatch'] !== false,
  };
}
