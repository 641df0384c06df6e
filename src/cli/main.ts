import yargs, { type Argv } from 'yargs';
import { escapeText } from '../codec/escape.js';
import { isMsnpProbeError } from '../errors.js';
import { startEmulator, type Emulator } from '../emulator/server.js';
import { PROFILES, PROFILE_NAMES, DEMO_PROFILE } from '../emulator/profiles.js';
import { FAULT_MODES } from '../emulator/faults.js';
import { probe, DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT_MS, type TargetReport } from '../probe/probe.js';
import { compareExpected } from '../report/expect.js';
import { buildDocument, type TargetDocument } from '../report/json.js';
import { renderTarget, expectationLines } from '../report/text.js';
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
    .option('json', { ...local, type: 'boolean', describe: 'print one JSON document (see README) instead of the table' })
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
      throw err ?? new UsageError(message);
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
        return await runProbes(probePlan({ ...args, targets: positional }), args, io);
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

async function runProbes(plan: ProbePlan, args: Args, io: Io): Promise<number> {
  const startedAt = new Date();
  const started = Date.now();
  const docs: TargetDocument[] = [];
  for (const target of plan.targets) {
    const report: TargetReport = await probe({
      host: target.host,
      port: target.port,
      versions: plan.versions,
      timeoutMs: plan.timeoutMs,
      concurrency: plan.concurrency,
      offer: plan.offer,
    });
    const doc: TargetDocument = plan.expect ? { ...report, expectation: compareExpected(plan.expect, report.accepted) } : report;
    docs.push(doc);
    if (!plan.json) {
      io.stdout.write(renderTarget(report, { color: useColor(args, io) }));
      if (doc.expectation) io.stdout.write(`${expectationLines(doc.expectation).join('\n')}\n`);
      if (plan.targets.length > 1) io.stdout.write('\n');
    }
  }
  if (plan.json) {
    io.stdout.write(`${JSON.stringify(buildDocument(docs, startedAt, Date.now() - started), null, 2)}\n`);
    for (const d of docs) {
      if (d.expectation && !d.expectation.met) io.stderr.write(`${escapeText(formatTarget(d))}: ${expectationLines(d.expectation).join('\n')}\n`);
    }
  }
  if (docs.some((d) => !d.answered)) return EXIT.noMsnpAnswer;
  if (docs.some((d) => d.expectation && !d.expectation.met)) return EXIT.expectationNotMet;
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
  io.stdout.write(`msnp-probe emulator: profile ${emulator.profile.name} (${emulator.profile.versions.length} versions${faults}) listening on ${where}\n`);
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
    if (!plan.json) {
      io.stdout.write(`Probing an emulated server in-process: profile ${emulator.profile.name}, ${emulator.profile.summary}.\n\n`);
    }
    return await runProbes({ ...plan, targets: [{ host: emulator.host, port: emulator.port }] }, args, io);
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
