import { escapeText } from '../core/escape.js';
import { PACKAGE } from '../core/version.js';
import { EXIT, type Io, type OutputState } from './io.js';

const SIGNAL_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/** Records the first failed write to stdout; the listener also keeps Node from throwing it. */
function watchStdout(): OutputState & { settle(): Promise<void> } {
  let error: string | null = null;
  const listeners = new Set<(code: string) => void>();
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (error !== null) return;
    error = err.code ?? 'EIO';
    for (const listener of listeners) listener(error);
    listeners.clear();
  });
  return {
    get error() {
      return error;
    },
    onError(listener) {
      if (error !== null) {
        listener(error);
        return () => undefined;
      }
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    // A write's error is reported after the write returns: an empty write queued behind it
    // completes (or fails) only once everything before it has, and its error event is out a turn later.
    settle: () =>
      new Promise((resolve) => {
        if (error !== null || process.stdout.destroyed) return setImmediate(resolve);
        process.stdout.write('', () => setImmediate(resolve));
      }),
  };
}

/** The real process as the CLI's world: stdio, environment, and Ctrl-C / SIGTERM to stop `serve`. */
export function processIo(): Io & { settle(): Promise<void> } {
  const output = watchStdout();
  // Diagnostics that cannot be written have nowhere else to go; without a listener Node would throw.
  process.stderr.on('error', () => undefined);
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    // A getter: process.stdin builds its stream (and loads Node's modules for it) on first access,
    // and only `--targets -` reads it.
    get stdin() {
      return process.stdin;
    },
    output,
    settle: output.settle,
    stopSignal: () =>
      new Promise((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      }),
    onInterrupt: (listener) => {
      let asked = false;
      const handler = (signal: 'SIGINT' | 'SIGTERM'): void => {
        // A second Ctrl-C means now: the user will not wait for the run to wind down.
        if (asked) process.exit(SIGNAL_CODES[signal]);
        asked = true;
        listener(signal);
      };
      process.on('SIGINT', handler);
      process.on('SIGTERM', handler);
      return () => {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
      };
    },
  };
}

/**
 * `--version` alone, answered without loading yargs and the probe code: a bare start costs Node's
 * start-up plus this small module (docs/BENCHMARKS.md). The output is yargs' own: the version, one line.
 * A failed write ends the run as `main` would end it.
 */
async function printVersion(io: Io & { settle(): Promise<void> }): Promise<number> {
  io.stdout.write(`${PACKAGE.version}\n`);
  await io.settle();
  const failed = io.output?.error ?? null;
  if (failed === 'EPIPE') return EXIT.pipeClosed;
  if (failed === null) return EXIT.ok;
  io.stderr.write(`msnp-probe: cannot write output: ${escapeText(failed)}\n`);
  return EXIT.outputFailed;
}

export async function run(): Promise<void> {
  const argv = process.argv.slice(2);
  const io = processIo();
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    process.exitCode = await printVersion(io);
    return;
  }
  // Imported here, not at the top: the bundle splits it (yargs, the probe code) from this entry module.
  const { main } = await import('./main.js');
  process.exitCode = await main(argv, io);
}
