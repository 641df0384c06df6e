import { isMsnpProbeError } from '../errors.js';
import { parseRange } from '../codec/range.js';
import { parseHost, parsePort, parseTarget, DEFAULT_PORT, type Target } from '../codec/target.js';
import { parseFault, type Fault } from '../emulator/faults.js';
import { DEMO_PROFILE, getProfile } from '../emulator/profiles.js';
import { DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT_MS } from '../probe/probe.js';

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

function wholeNumber(min: number, max: number, unit: string): (text: string) => number {
  return (text) => {
    if (!/^\d{1,9}$/.test(text.trim())) throw new UsageError(`'${text}' is not a whole number of ${unit}`);
    const n = Number(text);
    if (n < min || n > max) throw new UsageError(`${n} is outside ${min}..${max}`);
    return n;
  };
}

export type Args = Record<string, unknown>;

export interface ProbePlan {
  targets: Target[];
  versions: number[];
  timeoutMs: number;
  concurrency: number;
  offer: boolean;
  expect: number[] | null;
  json: boolean;
}

export function probePlan(args: Args): ProbePlan {
  const positional = Array.isArray(args['targets']) ? args['targets'].map(String) : [];
  const port = args['port'] === undefined ? undefined : flag('port', args['port'], (t) => parsePort(t));
  const targets: Target[] = [];
  if (args['host'] !== undefined) {
    targets.push({ host: flag('host', args['host'], parseHost), port: port ?? DEFAULT_PORT });
  }
  for (const text of positional) {
    try {
      const t = parseTarget(text, port ?? DEFAULT_PORT);
      targets.push(t);
    } catch (err) {
      throw new UsageError(`target '${text}': ${isMsnpProbeError(err) ? err.message : String(err)}`);
    }
  }
  if (targets.length === 0) throw new UsageError('no target: give HOST[:PORT] or --host (try `msnp-probe demo` for a local demo)');
  return {
    targets,
    ...commonProbeOptions(args),
  };
}

/** Options shared by `msnp-probe HOST` and `msnp-probe demo`. */
export function commonProbeOptions(args: Args): Omit<ProbePlan, 'targets'> {
  return {
    versions: args['range'] === undefined ? parseRange('2-21') : flag('range', args['range'], parseRange),
    timeoutMs: args['timeout'] === undefined ? DEFAULT_TIMEOUT_MS : flag('timeout', args['timeout'], wholeNumber(1, 600_000, 'milliseconds')),
    concurrency:
      args['concurrency'] === undefined ? DEFAULT_CONCURRENCY : flag('concurrency', args['concurrency'], wholeNumber(1, 1000, 'connections')),
    offer: args['offer'] !== false,
    expect: args['expect'] === undefined ? null : flag('expect', args['expect'], (t) => (t.trim().toLowerCase() === 'none' ? [] : parseRange(t))),
    json: args['json'] === true,
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
}

export function servePlan(args: Args, defaultPort: number): ServePlan {
  const profile = args['profile'] === undefined ? DEMO_PROFILE : flag('profile', args['profile'], (t) => getProfile(t).name);
  const faultArgs = args['fault'] === undefined ? [] : Array.isArray(args['fault']) ? args['fault'].map(String) : [String(args['fault'])];
  return {
    profile,
    host: args['host'] === undefined ? '127.0.0.1' : flag('host', args['host'], parseHost),
    port: args['port'] === undefined ? defaultPort : flag('port', args['port'], wholeNumber(0, 65535, 'port')),
    versions: args['versions'] === undefined ? undefined : flag('versions', args['versions'], parseRange),
    faults: faultArgs.map((f) => flag('fault', f, parseFault)),
    delayMs: args['delay'] === undefined ? 0 : flag('delay', args['delay'], wholeNumber(0, 600_000, 'milliseconds')),
    idleTimeoutMs: args['idle-timeout'] === undefined ? 60_000 : flag('idle-timeout', args['idle-timeout'], wholeNumber(1, 3_600_000, 'milliseconds')),
    maxConnections:
      args['max-connections'] === undefined ? 1024 : flag('max-connections', args['max-connections'], wholeNumber(1, 100_000, 'connections')),
  };
}
