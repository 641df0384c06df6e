import { escapeText } from '../core/escape.js';
import { EXIT, type Io } from './io.js';

/** Errors of a listen() that are the user's to fix (a port in use or not allowed, an address not here). */
const LISTEN_ERRORS = new Set(['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL']);

/**
 * Starts a server for `serve`, `demo` or `exporter`: an address that cannot be listened on is one line on
 * stderr and exit 2 (returned as a number); anything else is thrown.
 */
export async function listenOrUsage<T>(command: string, io: Io, start: () => Promise<T>): Promise<T | number> {
  try {
    return await start();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string' || !LISTEN_ERRORS.has(code)) throw err;
    io.stderr.write(`msnp-probe: ${command}: cannot listen: ${escapeText(String((err as Error).message))}\n`);
    return EXIT.usage;
  }
}

/**
 * Ctrl-C or SIGTERM, watched from the moment this is called: before the "listening" line is
 * printed, so a signal sent by whoever waited for that line stops the server cleanly.
 */
export function watchStop(io: Io): Promise<string> {
  return io.stopSignal?.() ?? new Promise<string>(() => undefined);
}
