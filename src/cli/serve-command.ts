import { escapeText } from '../core/escape.js';
import { formatTarget, DEFAULT_PORT } from '../input/target.js';
import { startEmulator, type Emulator } from '../emulator/server.js';
import { ESCARGOT_ERAS, PROFILES } from '../emulator/profiles.js';
import { listenOrUsage, watchStop } from './listen.js';
import { EXIT, terminalWidth, type Io } from './io.js';
import { wrapText } from '../core/fit.js';
import { commonProbeOptions, servePlan, UsageError, type Args } from './options.js';
import { resolveTarget, systemLookup } from '../transport/resolve.js';
import { filteredLookup } from '../input/family.js';
import { runProbes } from './probe-command.js';

/** Starts the emulator; `family` (demo's -4/-6) picks the loopback it listens on, or the address of --host. */
async function startFromArgs(args: Args, defaultPort: number, family?: 4 | 6): Promise<Emulator> {
  const plan = servePlan(args, defaultPort);
  const host = family === 6 && args['host'] === undefined ? '::1' : plan.host;
  // Resolved like a probe target: a `.invalid` name fails without a DNS query, and a failure is a usage error.
  const resolved = await resolveTarget(host, family === undefined ? systemLookup : filteredLookup({ family }));
  if (!resolved.ok) throw new UsageError(`--host: cannot listen on '${host}': ${resolved.errno}`);
  if (family !== undefined && resolved.address.family !== family) {
    throw new UsageError(`-${family}: --host '${host}' is not an IPv${family} address`);
  }
  return startEmulator({
    profile: plan.profile,
    host: resolved.address.address,
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

export async function serve(args: Args, io: Io): Promise<number> {
  const emulator = await listenOrUsage('serve', io, () => startFromArgs(args, DEFAULT_PORT));
  if (typeof emulator === 'number') return emulator;
  const stopped = watchStop(io);
  const where = formatTarget({ host: emulator.host, port: emulator.port });
  // The fault specs as typed: command-line text, escaped like text from the network (a spec may carry a raw \r).
  const specs = args['fault'] ? ([] as unknown[]).concat(args['fault']).map((f) => escapeText(String(f))) : [];
  const faults = emulator.faults.length ? `, faults ${specs.join(' ')}` : '';
  const kind = emulator.transport === 'http' ? 'HTTP gateway' : emulator.notification ? 'dispatch server' : 'server';
  const ns = emulator.notification ? `; its notification server listens on ${formatTarget(emulator.notification)}` : '';
  io.stdout.write(
    `msnp-probe emulator: ${kind}, profile ${emulator.profile.name} ` +
      `(${emulator.profile.versions.length} versions${faults}) listening on ${where}${ns}\n`,
  );
  // An address nobody can read is no use (with --port 0 it is the only way to learn it): stop.
  let stopWatching = (): unknown => undefined;
  const lost = new Promise<string>((resolve) => {
    stopWatching = io.output?.onError((code) => resolve(`cannot write output: ${code}`)) ?? stopWatching;
  });
  const why = await Promise.race([stopped, lost]);
  stopWatching();
  if (io.output?.error) {
    await emulator.close();
    return EXIT.outputFailed;
  }
  await emulator.close();
  io.stdout.write(`msnp-probe emulator: stopped (${why})\n`);
  return EXIT.ok;
}

export async function demo(args: Args, io: Io): Promise<number> {
  const plan = commonProbeOptions(args);
  const emulator = await listenOrUsage('demo', io, () => startFromArgs(args, 0, plan.family));
  if (typeof emulator === 'number') return emulator;
  try {
    if (plan.output === 'table' && !plan.quiet) {
      const { name, summary } = emulator.profile;
      const intro = `Probing an emulated server in-process: profile ${name}, ${summary}.`;
      io.stdout.write(`${wrapText(intro, terminalWidth(io.stdout, io.env)).join('\n')}\n\n`);
    }
    return await runProbes(
      {
        ...plan,
        targets: [{ host: emulator.host, port: emulator.port }],
        targetsFile: null,
        defaultPort: emulator.port,
      },
      args,
      io,
    );
  } finally {
    await emulator.close();
  }
}

export function profiles(io: Io): number {
  const width = terminalWidth(io.stdout, io.env);
  const lines = (text: string, indent: string): string => `${wrapText(text, width, indent).join('\n')}\n`;
  const column = ''.padEnd(15);
  for (const p of Object.values(PROFILES)) {
    io.stdout.write(lines(`${p.name.padEnd(14)} ${p.summary}`, column) + lines(`${column}source: ${p.source}`, column));
  }
  io.stdout.write(
    `\n${lines('escargot@YYYY-MM-DD: Escargot as of that date, each change below applied from its date on:', '')}`,
  );
  for (const era of ESCARGOT_ERAS) io.stdout.write(lines(`  ${era.from}  ${era.note}`, ''.padEnd(14)));
  io.stdout.write(`\n${lines('The facts behind every profile, and their public sources: docs/PROTOCOL.md', '  ')}`);
  return EXIT.ok;
}
