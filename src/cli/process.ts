import { main, type Io } from './main.js';

/** The real process as the CLI's world: stdio, environment, and Ctrl-C / SIGTERM to stop `serve`. */
export function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    stdin: process.stdin,
    stopSignal: () =>
      new Promise((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      }),
  };
}

export async function run(): Promise<void> {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    // `msnp-probe ... | head` closes the pipe early: not an error worth a trace.
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
  process.exitCode = await main(process.argv.slice(2), processIo());
}
