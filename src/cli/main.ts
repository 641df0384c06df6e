import yargs, { type Argv } from 'yargs';
import { escapeText } from '../codec/escape.js';
import { isMsnpProbeError } from '../errors.js';
import { startEmulator, type Emulator } from '../emulator/server.js';
import { PROFILES, PROFILE_NAMES, DEMO_PROFILE } from '../emulator/profiles.js';
import { FAULT_MODES } from '../emulator/faults.js';
import { open, readFile } from 'node:fs/promises';
import { DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT_MS } from '../probe/probe.js';
import { scan, DEFAULT_GLOBAL_CONCURRENCY } from '../probe/scan.js';
import { readTargets, inShard, type InvalidLine } from '../probe/targets.js';
import { parseBaseline, compareBaseline, baselineKey, type BaselineTarget } from '../report/baseline.js';
import { MatrixPrinter, MATRIX_LEGEND } from '../report/matrix.js';
import { Progress } from './progress.js';
import type { Target } from '../codec/target.js';
import { compareExpected } from '../report/expect.js';
import { buildDocument, type TargetDocument } from '../report/json.js';
import { renderTarget, expectationLines, baselineLines, transcriptText } from '../report/text.js';
import { formatTarget, DEFAULT_PORT } from '../codec/target.js';
import { PACKAGE } from '../version.js';
import { probePlan, commonProbeOptions, servePlan, UsageError, type Args, type ProbePlan } from './options.js';

/** Exit codes: a public contract, documented in the README. */
export const EXIT = {
  ok: 0,
  expectationNotMet: 1,
  usage: 2,
  noMsnpAnswer: 3,
  internal: 4,
} as const;

export interface Io {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  /** Standard input, for `--targets -`. */
  stdin?: AsyncIterable<Buffer | string>;
  /** Resolves when the user asks a long-running command (serve) to stop. */
  stopSignal?: () => Promise<string>;
}

/** Probe options; `global: false` keeps them out of `serve`, which has flags of its own. */
function probeOptions(y: Argv): Argv {
  const local = { global: false } as const;
  return y
    .option('range', { ...local, alias: 'r', type: 'string', describe: 'versions to probe: 7-21, 8,11-13,18 or MSNP8-MSNP18 [default: 2-21]' })
    .option('timeout', { ...local, alias: 't', type: 'string', describe: `deadline per connection in ms, connect and reply together [default: ${DEFAULT_TIMEOUT_MS}]` })
    .option('concurrency', { ...local, alias: 'c', type: 'string', describe: `connections in flight at once per target [default: ${DEFAULT_CONCURRENCY}]` })
    .option('offer', { ...local, type: 'boolean', describe: 'send the combined offer (every version, highest first) to learn the preferred version [default: true]; --no-offer skips it' })
    .option('expect', { ...local, type: 'string', describe: 'exit 1 unless the accepted set is exactly this range (`none` for the empty set)' })
    .option('global-concurrency', { ...local, type: 'string', describe: `connections in flight at once across all targets [default: ${DEFAULT_GLOBAL_CONCURRENCY}]` })
    .option('rate', { ...local, type: 'string', describe: 'new connections per second per target, with +-20% jitter [default: no limit]' })
    .option('retries', { ...local, type: 'string', describe: 're-probe transient outcomes (timeout, reset, closed without bytes, busy codes) up to N times [default: 0]' })
    .option('attempts', { ...local, type: 'string', describe: 'probe every version N times and report agreement [default: 1]' })
    .option('baseline', { ...local, type: 'string', describe: 'exit 1 on any conclusive difference from an earlier --json/--ndjson output' })
    .option('shard', { ...local, type: 'string', describe: 'probe only slice I of N of the targets (I/N, e.g. 2/4); N runs cover the list once' })
    .option('json', { ...local, type: 'boolean', describe: 'print one JSON document (see README) instead of the table' })
    .option('ndjson', { ...local, type: 'boolean', describe: 'print one JSON object per target as soon as it is done' })
    .option('progress', { ...local, type: 'boolean', describe: 'a progress line on stderr for many targets [default: when stderr is a TTY]' })
    .option('deep', { ...local, type: 'boolean', describe: 'after an accepted VER go on like a real client (CVR, INF, first USR; never a password) and report confirmed or claimed-only' })
    .option('follow', { ...local, type: 'boolean', describe: 'probe the notification servers that dispatch redirects (XFR) name; implies --deep' })
    .option('transcript', { ...local, type: 'boolean', describe: 'keep every byte sent and received per probe, timestamped, in the JSON' })
    .option('verbose', { ...local, alias: 'v', type: 'boolean', describe: 'print the transcripts on stderr, escaped; implies --transcript' })
    .option('transport', { ...local, type: 'string', choices: ['tcp', 'http'], describe: 'tcp, or http: tunnel through the MSN HTTP gateway (port 80) [default: tcp]' })
    .option('gateway-ns', { ...local, type: 'string', describe: 'with --transport http: the IP= the gateway is asked to reach [default: the target host]' })
    .option('color', { ...local, type: 'boolean', describe: 'colour the table [default: when stdout is a TTY and NO_COLOR is unset]; --no-color disables' });
}

function emulatorOptions(y: Argv, defaultPort: number): Argv {
  const local = { global: false } as const;
  return y
    .option('profile', { ...local, type: 'string', describe: `server generation to emulate [default: ${DEMO_PROFILE}]`, choices: PROFILE_NAMES as string[] })
    .option('versions', { ...local, type: 'string', describe: "override the profile's accepted versions, e.g. 8-18" })
    .option('fault', {
      ...local,
      type: 'string',
      array: true,
      describe: `misbehave: [VERSIONS:]MODE[:ARG], repeatable. Modes: ${FAULT_MODES.join(', ')}`,
    })
    .option('delay', { ...local, type: 'string', describe: 'latency in ms added before every reply [default: 0]' })
    .option('idle-timeout', { ...local, type: 'string', describe: 'drop connections idle this many ms [default: 60000]' })
    .option('max-connections', { ...local, type: 'string', describe: 'connections open at once [default: 1024]' })
    .option('transport', { ...local, type: 'string', choices: ['tcp', 'http'], describe: 'tcp, or http: serve the MSN HTTP gateway (POST /gateway/gateway.dll) [default: tcp]' })
    .option('dispatch', { ...local, type: 'boolean', describe: 'Microsoft profiles: a dispatch server whose XFR points at a second, emulated notification server [default: true]; --no-dispatch serves logins directly' })
    .option('host', { ...local, type: 'string', describe: 'address to listen on [default: 127.0.0.1]' })
    .option('port', { ...local, alias: 'p', type: 'string', describe: `port to listen on, 0 for any free one [default: ${defaultPort}]` });
}

const COMMANDS = ['serve', 'demo', 'profiles', 'completion'] as const;

function parser(): Argv {
  // Targets are plain positionals (argv._) rather than a `$0` default command: a default command
  // would swallow `completion` and send it to DNS as a host name.
  return probeOptions(yargs())
    .scriptName('msnp-probe')
    .usage('$0 [HOST[:PORT]..] [options]\n\nWhich MSN Messenger protocol (MSNP) versions does a server accept, and how does it answer the rest?\nTargets: HOST, HOST:PORT, [IPv6]:PORT or msnp://host:port; one connection per version, plus one combined offer.')
    .option('host', { global: false, type: 'string', describe: 'server to probe (same as a positional HOST)' })
    .option('targets', { global: false, type: 'string', describe: 'read targets from FILE, or - for stdin: one per line, # comments, masscan lists' })
    .option('port', { global: false, alias: 'p', type: 'string', describe: `port when the target names none [default: ${DEFAULT_PORT}]` })
    .command('serve', 'run an emulated MSNP server until Ctrl-C', (y) => emulatorOptions(y, DEFAULT_PORT))
    .command('demo', 'start an emulated server in-process and probe it (what `npm start` runs)', (y) =>
      probeOptions(emulatorOptions(y, 0)),
    )
    .command('profiles', 'list the emulator profiles')
    .example('$0 --host messenger.hotmail.com --range 7-21', 'probe MSNP7 to MSNP21 on port 1863')
    .example('$0 127.0.0.1:1863 --json', 'a JSON document for scripts')
    .example('$0 [::1]:1863 --expect 2-21', 'CI: exit 1 unless exactly MSNP2-21 are accepted')
    .example('$0 serve --profile escargot --port 1863', 'an emulated Escargot server on 127.0.0.1:1863')
    .example('$0 serve --fault 13:reset --fault 15:error:600', 'an emulated server that misbehaves for chosen versions')
    .example('$0 demo', 'probe the emulated July 2007 servers')
    .epilogue(
      'Exit codes: 0 done (expectations met), 1 --expect not met, 2 usage error, 3 a target never answered as an MSNP server, 4 internal error.',
    )
    .completion('completion', 'print a bash/zsh completion script')
    .version(PACKAGE.version)
    .alias('version', 'V')
    .help()
    .alias('help', 'h')
    .strictOptions()
    .showHelpOnFail(false)
    .exitProcess(false)
    .wrap(Math.min(100, process.stdout.columns ?? 100));
}

type Parsed = { err: Error | null; args: Args; output: string };

function parse(argv: string[]): Promise<Parsed> {
  return new Promise((resolve) => {
    const y = parser().fail((message, err) => {
      // yargs wraps some messages over lines ("Invalid values:\n  Argument: ..."): keep one sentence.
      throw err ?? new UsageError(message.replace(/\s*\n\s*/g, ' '));
    });
    if (argv.includes('--get-yargs-completions')) {
      // The shell asks for completions: answer from yargs' own completer, nothing else runs.
      y.getCompletion(argv.slice(argv.indexOf('--get-yargs-completions') + 2), (err, completions) =>
        resolve({ err: err ?? null, args: { help: true }, output: (completions ?? []).join('\n') }),
      );
      return;
    }
    y.parse(argv, {}, (err, args, output) => resolve({ err: err ?? null, args: args as Args, output }));
  });
}

/** Runs the command line; returns the exit code. Never throws. */
export async function main(argv: string[], io: Io): Promise<number> {
  const error = (message: string): void => {
    io.stderr.write(`msnp-probe: ${escapeText(message)}\n`);
  };
  try {
    const { err, args, output } = await parse(argv);
    if (err) {
      error(`${err.message} (see --help)`);
      return EXIT.usage;
    }
    if (output) {
      io.stdout.write(output.endsWith('\n') ? output : `${output}\n`);
      return EXIT.ok;
    }
    // yargs handles --help, --version and completion itself; nothing else to do for them.
    if (args['help'] || args['version']) return EXIT.ok;
    const positional = (Array.isArray(args['_']) ? args['_'] : []).map(String);
    const command = (COMMANDS as readonly string[]).includes(positional[0] ?? '') ? positional.shift() : undefined;
    if (command !== undefined && positional.length > 0) throw new UsageError(`${command}: unexpected argument '${positional[0]}'`);
    switch (command) {
      case 'serve':
        return await serve(args, io);
      case 'demo':
        return await demo(args, io);
      case 'profiles':
        return profiles(io);
      case 'completion':
        return EXIT.ok;
      default:
        return await runProbes(probePlan(args, positional), args, io);
    }
  } catch (err) {
    if (err instanceof UsageError || isMsnpProbeError(err)) {
      error(`${err.message} (see --help)`);
      return EXIT.usage;
    }
    error(`internal error: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.internal;
  }
}

function useColor(args: Args, io: Io): boolean {
  if (args['color'] === true) return true;
  if (args['color'] === false) return false;
  return Boolean(io.stdout.isTTY) && (io.env['NO_COLOR'] ?? '') === '';
}

/** At most this many skipped target lines are named on stderr; the rest are counted. */
const MAX_INVALID_SHOWN = 10;

async function openTargets(plan: ProbePlan, io: Io): Promise<AsyncIterable<Buffer | string> | null> {
  if (plan.targetsFile === null) return null;
  if (plan.targetsFile === '-') {
    if (!io.stdin) throw new UsageError('--targets -: no standard input');
    return io.stdin;
  }
  try {
    const handle = await open(plan.targetsFile, 'r');
    if ((await handle.stat()).isDirectory()) {
      await handle.close();
      throw Object.assign(new Error('a directory'), { code: 'EISDIR' });
    }
    return handle.createReadStream();
  } catch (err) {
    throw new UsageError(`--targets: cannot read '${plan.targetsFile}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

async function loadBaseline(file: string | null): Promise<Map<string, BaselineTarget> | null> {
  if (file === null) return null;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--baseline: cannot read '${file}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    return parseBaseline(text);
  } catch (err) {
    throw new UsageError(`--baseline: '${file}': ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Resolves when `stream` may take more (so --ndjson into a slow pipe applies back-pressure). */
function write(stream: Io['stdout'], text: string): Promise<void> | void {
  const ok = stream.write(text);
  if (ok === false && 'once' in stream && typeof stream.once === 'function') {
    return new Promise((resolve) => (stream.once as (e: string, f: () => void) => void)('drain', resolve));
  }
}

async function runProbes(plan: ProbePlan, args: Args, io: Io): Promise<number> {
  const startedAt = new Date();
  const started = Date.now();
  const baseline = await loadBaseline(plan.baselineFile);
  const fileInput = await openTargets(plan, io);
  let invalid = 0;
  const onInvalid = (bad: InvalidLine): void => {
    invalid++;
    if (invalid <= MAX_INVALID_SHOWN) io.stderr.write(`msnp-probe: --targets line ${bad.line}: ${escapeText(bad.message)} (skipped)\n`);
  };
  const order = new Map<Target, number>();
  async function* source(): AsyncGenerator<Target> {
    let index = 0;
    const all = async function* (): AsyncGenerator<Target> {
      yield* plan.targets;
      if (fileInput) yield* readTargets(fileInput, { defaultPort: plan.targets[0]?.port ?? DEFAULT_PORT, onInvalid });
    };
    for await (const target of all()) {
      if (plan.shard && !inShard(target, plan.shard)) continue;
      order.set(target, index++);
      yield target;
    }
  }
  const detailed = fileInput === null && plan.targets.length === 1;
  const color = useColor(args, io);
  const matrix = plan.output === 'table' && !detailed ? new MatrixPrinter(plan.versions, color) : null;
  const showProgress = !detailed && (plan.progress ?? Boolean(io.stderr.isTTY));
  const progress = showProgress ? new Progress((t) => io.stderr.write(t), fileInput === null ? plan.targets.length : null) : null;
  if (matrix) io.stdout.write(matrix.header());

  const collected: { index: number; doc: TargetDocument }[] = [];
  let total = 0;
  let silent = 0;
  let failed = 0;
  const problems: string[] = [];
  await scan(
    source(),
    {
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
      transcript: plan.transcript,
      transport: plan.transport,
      ...(plan.gatewayNsHost !== undefined ? { gatewayNsHost: plan.gatewayNsHost } : {}),
    },
    async (report, target) => {
      const doc: TargetDocument = { ...report };
      if (plan.expect) doc.expectation = compareExpected(plan.expect, report.accepted);
      if (baseline) doc.baseline = compareBaseline(report, baseline.get(baselineKey(report.host, report.port)));
      total++;
      if (!report.answered) silent++;
      const lines = [
        ...(doc.expectation && !doc.expectation.met ? expectationLines(doc.expectation) : []),
        ...(doc.baseline ? baselineLines(doc.baseline) : []),
      ];
      if ((doc.expectation && !doc.expectation.met) || (doc.baseline && !doc.baseline.met)) failed++;
      if (lines.length) problems.push(`${escapeText(formatTarget(report))}:\n${lines.map((l) => `  ${l}`).join('\n')}`);
      progress?.done(report.probes.length + (report.offer ? 1 : 0));
      if (plan.verbose) io.stderr.write(transcriptText(report));
      switch (plan.output) {
        case 'ndjson':
          await write(io.stdout, `${JSON.stringify(doc)}\n`);
          break;
        case 'json':
          collected.push({ index: order.get(target) ?? 0, doc });
          break;
        case 'table':
          if (matrix) {
            await write(io.stdout, matrix.row(report));
          } else {
            io.stdout.write(renderTarget(report, { color }));
            if (doc.expectation?.met) io.stdout.write(`${expectationLines(doc.expectation).join('\n')}\n`);
            if (doc.baseline?.met) io.stdout.write(`${baselineLines(doc.baseline).join('\n') || 'baseline: no difference'}\n`);
          }
          break;
      }
    },
  );
  progress?.finish();
  if (plan.output === 'json') {
    collected.sort((a, b) => a.index - b.index);
    const doc = buildDocument(collected.map((c) => c.doc), startedAt, Date.now() - started);
    io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  }
  if (matrix) io.stdout.write(`${MATRIX_LEGEND}\n${total} targets, ${total - silent} answered as MSNP\n`);
  // Differences go to stdout under a table, to stderr when stdout carries JSON for a script.
  const report = plan.output === 'table' ? io.stdout : io.stderr;
  for (const p of problems) report.write(`${p}\n`);
  if (invalid > MAX_INVALID_SHOWN) io.stderr.write(`msnp-probe: --targets: ${invalid} lines skipped in all\n`);
  if (total === 0) {
    io.stderr.write('msnp-probe: no targets to probe (empty list or empty shard)\n');
    return fileInput !== null && invalid > 0 ? EXIT.usage : EXIT.ok;
  }
  if (silent > 0) return EXIT.noMsnpAnswer;
  if (failed > 0) return EXIT.expectationNotMet;
  return EXIT.ok;
}

async function startFromArgs(args: Args, defaultPort: number): Promise<Emulator> {
  const plan = servePlan(args, defaultPort);
  return startEmulator({
    profile: plan.profile,
    host: plan.host,
    port: plan.port,
    versions: plan.versions,
    faults: plan.faults,
    delayMs: plan.delayMs,
    idleTimeoutMs: plan.idleTimeoutMs,
    maxConnections: plan.maxConnections,
    transport: plan.transport,
    dispatch: plan.dispatch,
  });
}

async function serve(args: Args, io: Io): Promise<number> {
  let emulator: Emulator;
  try {
    emulator = await startFromArgs(args, DEFAULT_PORT);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      io.stderr.write(`msnp-probe: serve: cannot listen: ${escapeText(String((err as Error).message))}\n`);
      return EXIT.usage;
    }
    throw err;
  }
  const where = formatTarget({ host: emulator.host, port: emulator.port });
  const faults = emulator.faults.length ? `, faults ${args['fault'] ? ([] as unknown[]).concat(args['fault']).join(' ') : ''}` : '';
  const kind = emulator.transport === 'http' ? 'HTTP gateway' : emulator.notification ? 'dispatch server' : 'server';
  const ns = emulator.notification ? `; its notification server listens on ${formatTarget(emulator.notification)}` : '';
  io.stdout.write(`msnp-probe emulator: ${kind}, profile ${emulator.profile.name} (${emulator.profile.versions.length} versions${faults}) listening on ${where}${ns}\n`);
  const stop = io.stopSignal ?? (() => new Promise<string>(() => undefined));
  const why = await stop();
  await emulator.close();
  io.stdout.write(`msnp-probe emulator: stopped (${why})\n`);
  return EXIT.ok;
}

async function demo(args: Args, io: Io): Promise<number> {
  const plan = commonProbeOptions(args);
  const emulator = await startFromArgs(args, 0);
  try {
    if (plan.output === 'table') {
      io.stdout.write(`Probing an emulated server in-process: profile ${emulator.profile.name}, ${emulator.profile.summary}.\n\n`);
    }
    return await runProbes({ ...plan, targets: [{ host: emulator.host, port: emulator.port }], targetsFile: null }, args, io);
  } finally {
    await emulator.close();
  }
}

function profiles(io: Io): number {
  for (const p of Object.values(PROFILES)) {
    io.stdout.write(`${p.name.padEnd(14)} ${p.summary}\n${''.padEnd(14)} source: ${p.source}\n`);
  }
  return EXIT.ok;
}
