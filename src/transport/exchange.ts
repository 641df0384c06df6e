import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { errnoOf } from './resolve.js';

export type Phase = 'connect' | 'reply';

/** What a conversation on one connection does; the transport owns the socket and the deadline. */
export interface ExchangeSession<T> {
  /** Bytes to send once connected. */
  onConnect(): string | Uint8Array;
  /** Each chunk as it arrives; return a result to finish, or undefined to keep reading. */
  onData(chunk: Buffer, write: (data: string | Uint8Array) => void): T | undefined;
  /** The server closed its side before a result. */
  onEnd(): T;
  /** The deadline passed. */
  onTimeout(phase: Phase): T;
  /** A socket error (ECONNREFUSED, ECONNRESET, ...). */
  onError(errno: string, phase: Phase): T;
}

export interface ExchangeOptions {
  address: string;
  port: number;
  family?: 4 | 6;
  /** One deadline for connect and reply together; a dripping server cannot extend it. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Record every byte both ways (bounded) with timestamps. */
  transcript?: boolean;
  /** How long to wait for the server to close after our FIN before destroying the socket. */
  lingerMs?: number;
}

export interface TranscriptEntry {
  /** Milliseconds since the exchange started. */
  t: number;
  dir: 'send' | 'recv';
  /** The bytes as a latin1 string (exact). */
  data: string;
}

export interface ExchangeResult<T> {
  result: T;
  elapsedMs: number;
  bytesReceived: number;
  /** The first bytes received (at most FIRST_BYTES_KEPT). */
  firstBytes: Buffer;
  transcript?: TranscriptEntry[];
}

export const FIRST_BYTES_KEPT = 64;
/**
 * The slot of a finished probe is freed only once the server has closed too (or this long has
 * passed), so the server never sees more of our connections at once than the concurrency allows.
 */
export const DEFAULT_LINGER_MS = 250;
/** A transcript keeps at most this many bytes; the rest is counted, not stored. */
export const TRANSCRIPT_MAX_BYTES = 64 * 1024;

/**
 * Opens one TCP connection, runs `session` on it and always destroys the socket: on a result, on
 * FIN, on error, on the deadline and on abort. Rejects only when `signal` aborts.
 */
export function exchange<T>(options: ExchangeOptions, session: ExchangeSession<T>): Promise<ExchangeResult<T>> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = new Socket();
    let phase: Phase = 'connect';
    let bytesReceived = 0;
    let firstBytes = Buffer.alloc(0);
    let settled = false;
    const transcript: TranscriptEntry[] | undefined = options.transcript ? [] : undefined;
    let transcriptBytes = 0;

    const record = (dir: 'send' | 'recv', data: string | Uint8Array): void => {
      if (!transcript || transcriptBytes >= TRANSCRIPT_MAX_BYTES) return;
      const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data);
      const kept = bytes.subarray(0, TRANSCRIPT_MAX_BYTES - transcriptBytes);
      transcriptBytes += kept.length;
      transcript.push({ t: Math.round((performance.now() - started) * 10) / 10, dir, data: kept.toString('latin1') });
    };

    const finish = (result: T): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      const out: ExchangeResult<T> = {
        result,
        elapsedMs: Math.round((performance.now() - started) * 10) / 10,
        bytesReceived,
        firstBytes,
      };
      if (transcript) out.transcript = transcript;
      linger(socket, options.lingerMs ?? DEFAULT_LINGER_MS, () => resolve(out));
    };

    const onAbort = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(options.signal?.reason ?? new Error('aborted'));
    };

    const write = (data: string | Uint8Array): void => {
      if (settled || socket.destroyed) return;
      record('send', data);
      socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
    };

    const timer = setTimeout(() => finish(session.onTimeout(phase)), options.timeoutMs);
    if (options.signal?.aborted) {
      onAbort();
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });

    socket.setNoDelay(true);
    socket.on('connect', () => {
      phase = 'reply';
      write(session.onConnect());
    });
    socket.on('data', (chunk: Buffer) => {
      if (settled) return;
      bytesReceived += chunk.length;
      if (firstBytes.length < FIRST_BYTES_KEPT) {
        firstBytes = Buffer.concat([firstBytes, chunk.subarray(0, FIRST_BYTES_KEPT - firstBytes.length)]);
      }
      record('recv', chunk);
      const result = session.onData(chunk, write);
      if (result !== undefined) finish(result);
    });
    socket.on('end', () => finish(session.onEnd()));
    socket.on('error', (err) => finish(session.onError(errnoOf(err) ?? 'EUNKNOWN', phase)));
    // A close without 'end' or 'error' (rare) must still settle the promise.
    socket.on('close', () => finish(session.onEnd()));
    socket.connect({ host: options.address, port: options.port, family: options.family ?? 0 });
  });
}

/**
 * Closes gracefully: our FIN, then wait for the peer's close, discarding anything it still sends.
 * A peer that neither closes nor resets within `lingerMs` is destroyed.
 */
function linger(socket: Socket, lingerMs: number, done: () => void): void {
  if (socket.destroyed || socket.connecting || lingerMs <= 0) {
    socket.destroy();
    done();
    return;
  }
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    clearTimeout(cap);
    socket.destroy();
    done();
  };
  const cap = setTimeout(stop, lingerMs);
  socket.removeAllListeners('data');
  socket.removeAllListeners('end');
  socket.removeAllListeners('close');
  socket.removeAllListeners('error');
  socket.on('data', () => undefined);
  socket.once('close', stop);
  socket.once('end', stop);
  socket.on('error', stop);
  socket.end();
}

/** Which probe status a socket error stands for. */
export function statusForErrno(errno: string): 'refused' | 'reset' | 'unreachable' | 'timeout' {
  switch (errno) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return 'reset';
    case 'ETIMEDOUT':
      return 'timeout';
    default:
      return 'unreachable';
  }
}
