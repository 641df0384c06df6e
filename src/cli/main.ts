import { escapeText } from '../core/escape.js';
import { isMsnpProbeError } from '../core/errors.js';
import { EXIT, type Io } from './io.js';
import { probePlan, UsageError } from './options.js';
import { COMMANDS, parse } from './parser.js';
import { runProbes } from './probe-command.js';
import { mistypedCommand, mistypedCommandMessage, nmapRangeMessage } from './suggest.js';

export { EXIT, type Io } from './io.js';

/**
 * Runs the command line; returns the exit code. Never throws. Output that could not be written
 * fails the run in every command; a pipe closed by its reader never leaves a success behind.
 */
export async function main(argv: string[], io: Io): Promise<number> {
  const code = await command(argv, io);
  await io.settle?.();
  const failed = io.output?.error ?? null;
  if (failed !== null && failed !== 'EPIPE') {
    io.stderr.write(`msnp-probe: cannot write output: ${escapeText(failed)}\n`);
    return EXIT.outputFailed;
  }
  return failed === 'EPIPE' && code === EXIT.ok ? EXIT.pipeClosed : code;
}

async function command(argv: string[], io: Io): Promise<number> {
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
    checkTargetWords(command, positional);
    // `badge` takes one HOST[:PORT], as a probe does; the other commands take none.
    if (command !== undefined && command !== 'badge' && command !== 'merge' && positional.length > 0) {
      throw new UsageError(`${command}: unexpected argument '${positional[0]}'`);
    }
    switch (command) {
      // The emulator loads only for the commands that run it, keeping a plain probe's start-up short.
      case 'serve':
        return await (await import('./serve-command.js')).serve(args, io);
      case 'demo':
        return await (await import('./serve-command.js')).demo(args, io);
      case 'profiles':
        return (await import('./serve-command.js')).profiles(io);
      case 'completion':
        return EXIT.ok;
      case 'exporter':
        return await (await import('./exporter-command.js')).exporter(args, io);
      case 'badge':
        return await (await import('./badge-command.js')).badge(args, positional, io);
      case 'merge':
        return await (await import('./merge-command.js')).merge(args, positional, io);
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

/**
 * Words that would be probed but cannot mean a target, caught before any lookup: a mistyped
 * subcommand would go to DNS as a host name, an nmap-style range would read as another range.
 */
function checkTargetWords(command: string | undefined, positional: readonly string[]): void {
  if (command !== undefined && command !== 'badge') return;
  const first = positional[0];
  if (command === undefined && first !== undefined) {
    const meant = mistypedCommand(first, COMMANDS);
    if (meant !== null) throw new UsageError(mistypedCommandMessage(first, meant));
  }
  for (const word of positional) {
    const nmap = nmapRangeMessage(word);
    if (nmap !== null) throw new UsageError(nmap);
  }
}
