import { Socket } from 'node:net';
import type { Conversation } from '../codec/conversation.js';
import type { Outcome } from '../codec/outcome.js';
import { errnoOf } from './resolve.js';
import type { DialEvents, Dialer } from './dialer.js';
import { tcpDialer } from './tcp.js';
import type { CloseBy, TranscriptEntry } from '../core/model.js';
import { DEFAULT_PORT } from '../core/defaults.js';
import type { Transport } from './transport.js';

export type { CloseBy, TranscriptEntry } from '../core/model.js';

export type Phase = 'connect' | 'reply';

export interface ExchangeOptions {
  address: string;
  port: number;
  family?: 4 | 6;
  /**
   * The deadline: connect plus the first reply must fit in it, and each later request gets the
   * same again. A dripping server cannot extend it.
   */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Record every byte both ways (bounded) with timestamps. */
  transcript?: boolean;
  /** How long to wait for the server to close after our FIN before destroying the socket. */
  lingerMs?: number;
  /** Opens the socket; tests inject one that fails as an exhausted machine would. */
  createSocket?: () => Socket;
  /** How the socket reaches the server: direct TCP unless a proxy is given. */
  dialer?: Dialer;
}

/** Where the conversation stood when it moved on: after its first reply, after the next... */
export interface Mark {
  elapsedMs: number;
  bytesReceived: number;
}

export interface ExchangeResult<T> {
  result: T;
  /** Until the result. */
  elapsedMs: number;
  bytesReceived: number;
  /**
   * The first bytes received: all of them up to FIRST_BYTES_KEPT, maybe more (the first chunk as it
   * came), so whoever reports them cuts them to FIRST_BYTES_KEPT.
   */
  firstBytes: Uint8Array;
  /**
   * One mark per step the conversation took (`send`); none for a conversation of one reply. The
   * end is the result's own `elapsedMs` and `bytesReceived`.
   */
  marks: readonly Mark[];
  transcript?: TranscriptEntry[];
}

export { FIRST_BYTES_KEPT, TRANSCRIPT_MAX_BYTES } from '../core/limits.js';
import { FIRST_BYTES_KEPT, TRANSCRIPT_MAX_BYTES } from '../core/limits.js';
/**
 * The slot of a finished probe is freed only once the server has closed too (or this long has
 * passed), so the server never sees more of our connections at once than the concurrency allows.
 */
export const DEFAULT_LINGER_MS = 250;

/**
 * Errors that say this machine ran out of something (file descriptors, ephemeral ports, socket
 * buffers), not that the server failed: they are reported as `unreachable` with reason `local`.
 */
const LOCAL_ERRNOS: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE', 'EADDRNOTAVAIL', 'ENOBUFS', 'ENOMEM', 'EAGAIN']);

export function isLocalErrno(errno: string): boolean {
  return LOCAL_ERRNOS.has(errno);
}

/**
 * Waits before each new try after a local error: a machine out of descriptors or ports usually
 * recovers as other connections close. Bounded (1.5 s in all), and never counted against the
 * server's deadline.
 */
export const LOCAL_RETRY_DELAYS_MS: readonly number[] = [100, 200, 400, 800];

/** Which status a socket error stands for. */
export function outcomeForErrno(errno: string, phase: Phase): Outcome {
  if (isLocalErrno(errno)) return { status: 'unreachable', reply: null, errno, reason: 'local' };
  switch (errno) {
    case 'ECONNREFUSED':
      return { status: 'refused', reply: null, errno };
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return { status: 'reset', reply: null };
    case 'ETIMEDOUT':
      return { status: 'timeout', reply: null, phase };
    default:
      return { status: 'unreachable', reply: null, errno, reason: 'network' };
  }
}

// One empty buffer for every recorder that has received nothing yet, rather than one each.
const NO_BYTES = Buffer.alloc(0);
const NO_MARKS: readonly Mark[] = Object.freeze([]);

/** A bounded, timestamped record of the bytes of one exchange, shared by the transports. */
export class Recorder {
  readonly #started = performance.now();
  readonly entries: TranscriptEntry[] | undefined;
  #bytes = 0;
  // Only a transcript records closes: most connections never need the set.
  #closed: Set<CloseBy> | undefined;
  bytesReceived = 0;
  firstBytes: Uint8Array = NO_BYTES;
  // Made at the first step: most conversations (one VER, one reply) take none.
  #marks: Mark[] | undefined;

  constructor(transcript: boolean) {
    this.entries = transcript ? [] : undefined;
  }

  elapsed(): number {
    return Math.round((performance.now() - this.#started) * 10) / 10;
  }

  sent(data: string | Uint8Array): void {
    this.#record('send', data);
  }

  received(chunk: Uint8Array): void {
    this.bytesReceived += chunk.length;
    if (this.firstBytes.length === 0) {
      // The usual case, a reply in one chunk: the chunk itself, no copy, since most replies are
      // read into a verdict and their first bytes are never reported (see ExchangeResult).
      this.firstBytes = chunk;
    } else if (this.firstBytes.length < FIRST_BYTES_KEPT) {
      this.firstBytes = Buffer.concat([this.firstBytes, chunk.subarray(0, FIRST_BYTES_KEPT - this.firstBytes.length)]);
    }
    this.#record('recv', chunk);
  }

  /**
   * Records each side's close once, in the order seen (a server that closes right after its reply
   * shows as `client` then `server`). Not counted against the byte cap, so a full transcript still
   * shows how it ended.
   */
  closed(by: CloseBy): void {
    if (!this.entries) return;
    this.#closed ??= new Set();
    if (this.#closed.has(by)) return;
    this.#closed.add(by);
    this.entries.push({ t: this.elapsed(), dir: 'close', data: '', by });
  }

  mark(): void {
    this.#marks ??= [];
    this.#marks.push({ elapsedMs: this.elapsed(), bytesReceived: this.bytesReceived });
  }

  get marks(): readonly Mark[] {
    return this.#marks ?? NO_MARKS;
  }

  result<T>(result: T): ExchangeResult<T> {
    const out: ExchangeResult<T> = {
      result,
      elapsedMs: this.elapsed(),
      bytesReceived: this.bytesReceived,
      firstBytes: this.firstBytes,
      marks: this.#marks ?? NO_MARKS,
    };
    if (this.entries) out.transcript = this.entries;
    return out;
  }

  #record(dir: 'send' | 'recv', data: string | Uint8Array): void {
    if (!this.entries || this.#bytes >= TRANSCRIPT_MAX_BYTES) return;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data);
    const kept = bytes.subarray(0, TRANSCRIPT_MAX_BYTES - this.#bytes);
    this.#bytes += kept.length;
    this.entries.push({ t: this.elapsed(), dir, data: kept.toString('latin1') });
  }
}

/**
 * Opens one TCP connection, runs `conversation` on it and always closes the socket: on a result,
 * on FIN, on error, on the deadline and on abort. Rejects only when `signal` aborts. A connection
 * that fails for a local reason before connecting is tried again after a short wait (bounded).
 *
 * One promise for the whole exchange, tries included, settled from the socket's callbacks: at one
 * exchange per connection, every promise and async function more is paid thousands of times.
 */
export function exchange<T>(options: ExchangeOptions, conversation: Conversation<T>): Promise<ExchangeResult<T>> {
  return new Promise((resolve, reject) => {
    new Connection(options, conversation, resolve, reject, 0).start();
  });
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason ?? new Error('aborted'));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason ?? new Error('aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** What waits on a signal's abort (see `watchAbort`). */
interface AbortWatcher {
  aborted(): void;
}

/**
 * Connections waiting on one signal, behind a single listener: every connection of a target shares
 * its signal, and adding and removing an EventTarget listener per connection cost more than the
 * rest of the connection's bookkeeping. Entries leave the set as their connection settles.
 */
const abortWatchers = new WeakMap<AbortSignal, Set<AbortWatcher>>();

/** Adds `watcher` to the signal's set and returns the set, to take the watcher out again. */
function watchAbort(signal: AbortSignal, watcher: AbortWatcher): Set<AbortWatcher> {
  let watchers = abortWatchers.get(signal);
  if (!watchers) {
    const set = new Set<AbortWatcher>();
    watchers = set;
    abortWatchers.set(signal, set);
    signal.addEventListener(
      'abort',
      () => {
        abortWatchers.delete(signal);
        for (const watcher of set) watcher.aborted();
      },
      { once: true },
    );
  }
  watchers.add(watcher);
  return watchers;
}

/** Where a socket's listeners find their connection: one set of listener functions for every socket. */
const CONNECTION: unique symbol = Symbol('msnp-probe.connection');
interface SocketEvents {
  data(chunk: Buffer): void;
  end(): void;
  error(err: Error): void;
  close(): void;
}
type OwnedSocket = Socket & { [CONNECTION]?: SocketEvents };

function onSocketData(this: OwnedSocket, chunk: Buffer): void {
  this[CONNECTION]?.data(chunk);
}
function onSocketEnd(this: OwnedSocket): void {
  this[CONNECTION]?.end();
}
function onSocketError(this: OwnedSocket, err: Error): void {
  this[CONNECTION]?.error(err);
}
function onSocketClose(this: OwnedSocket): void {
  this[CONNECTION]?.close();
}
function ignore(): void {}

/**
 * One try: settles through `done` (the result, after the linger) or `abort` (the signal's reason);
 * a local failure before connecting starts the next try itself (`retryLocal`). One set of socket
 * listeners for the socket's whole life, reading the state they are in, rather than listeners
 * swapped for the linger: adding and removing listeners cost more per connection than the state
 * checks.
 *
 * A class rather than closures: its methods are shared by every connection, and the socket's
 * listeners are module functions that find it on the socket, so a connection costs one object
 * where a closure per callback cost a dozen.
 */
class Connection<T> implements DialEvents, AbortWatcher, SocketEvents {
  readonly socket: OwnedSocket;
  readonly recorder: Recorder;
  phase: Phase = 'connect';
  settled = false;
  /** Set while waiting for the server's close after ours (see `linger`). */
  lingering = false;
  timer: NodeJS.Timeout | undefined;
  /** Set between the deadline's timer and the verdict it gives (see `connectionTimeout`). */
  expiry: NodeJS.Immediate | undefined;
  laterTimer: NodeJS.Timeout | undefined;
  lingerTimer: NodeJS.Timeout | undefined;
  watchers: Set<AbortWatcher> | undefined;
  out: ExchangeResult<T> | undefined;

  constructor(
    readonly options: ExchangeOptions,
    readonly conversation: Conversation<T>,
    readonly done: (result: ExchangeResult<T>) => void,
    readonly abort: (reason: unknown) => void,
    /** Tries before this one that failed for a local reason (see `retryLocal`). */
    readonly tries: number,
  ) {
    this.socket = options.createSocket?.() ?? new Socket();
    this.recorder = new Recorder(options.transcript ?? false);
  }

  start(): void {
    const { options, socket } = this;
    this.timer = setTimeout(connectionTimeout, options.timeoutMs, this);
    if (options.signal?.aborted) {
      this.aborted();
      return;
    }
    if (options.signal) this.watchers = watchAbort(options.signal, this);
    socket.setNoDelay(true);
    socket[CONNECTION] = this;
    socket.on('data', onSocketData);
    socket.on('end', onSocketEnd);
    socket.on('error', onSocketError);
    // A close without 'end' or 'error' (rare) must still settle the promise.
    socket.on('close', onSocketClose);
    try {
      // The options name the target as a DialTarget does: no object of its own per connection.
      (options.dialer ?? tcpDialer).dial(socket, options, this);
    } catch (err) {
      // Some failures to get a socket are thrown rather than emitted.
      this.fail(errnoOf(err) ?? 'EUNKNOWN');
    }
  }

  finish(result: T): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    clearTimeout(this.laterTimer);
    this.watchers?.delete(this);
    if (this.phase === 'reply') this.recorder.closed('client');
    this.out = this.recorder.result(result);
    this.linger();
  }

  aborted(): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    clearTimeout(this.laterTimer);
    this.socket.destroy();
    this.abort(this.options.signal?.reason ?? new Error('aborted'));
  }

  send(data: string): void {
    this.recorder.sent(data);
    // Written as a string: the socket encodes it straight into its write request, no Buffer made.
    this.socket.write(data, 'latin1');
  }

  /** The path failed (from the dialer, or the socket's error). */
  fail(errno: string): void {
    if (this.settled) return;
    const { phase, conversation, socket } = this;
    if (phase === 'connect' && isLocalErrno(errno)) {
      // Nothing reached the server and the conversation has not started: the caller may try again.
      this.settled = true;
      clearTimeout(this.timer);
      this.watchers?.delete(this);
      // Its 'close' must not reach the conversation, which the next try still needs unstarted.
      socket.removeAllListeners();
      socket.on('error', ignore);
      socket.destroy();
      this.retryLocal(errno);
      return;
    }
    this.finish(conversation.fail(outcomeForErrno(errno, phase)));
  }

  /**
   * A local failure before connecting: a new connection after a short wait, or, once the waits
   * are used up, the failure as the result. Made here, not in a closure `exchange` keeps for
   * every connection, since almost none fail this way.
   */
  retryLocal(errno: string): void {
    const { options, conversation, done, abort, tries } = this;
    const delay = LOCAL_RETRY_DELAYS_MS[tries];
    if (delay === undefined) {
      done(this.recorder.result(conversation.fail(outcomeForErrno(errno, 'connect'))));
      return;
    }
    abortableSleep(delay, options.signal).then(
      () => new Connection(options, conversation, done, abort, tries + 1).start(),
      abort,
    );
  }

  timeout(): void {
    this.expiry = undefined;
    // What came in meanwhile may have settled the exchange (its verdict stands).
    if (this.settled) return;
    const { phase, conversation } = this;
    this.finish(
      phase === 'connect' ? conversation.fail({ status: 'timeout', reply: null, phase }) : conversation.end('timeout'),
    );
  }

  ready(): void {
    if (this.settled) return;
    this.phase = 'reply';
    this.send(this.conversation.opening());
    const later = this.conversation.later?.();
    if (later) this.laterTimer = setTimeout(() => !this.settled && this.send(later.data), later.afterMs);
  }

  data(chunk: Buffer): void {
    // Before the path is ready the bytes are a proxy's handshake, which its dialer reads; after
    // the result, whatever the server still sends is discarded.
    if (this.settled || this.phase === 'connect') return;
    this.recorder.received(chunk);
    const step = this.conversation.push(chunk);
    if (step.type === 'done') this.finish(step.result);
    else if (step.type === 'send') {
      this.recorder.mark();
      // The reply this asks for gets the whole deadline again, even if the old one just expired.
      clearImmediate(this.expiry);
      this.expiry = undefined;
      this.timer?.refresh();
      this.send(step.data);
    }
  }

  end(): void {
    if (!this.settled) {
      this.recorder.closed('server');
      this.finish(this.conversation.end('close'));
    } else if (this.lingering) {
      this.recorder.closed('server');
      this.stopLingering();
    }
  }

  error(err: Error): void {
    if (!this.settled) {
      if (this.phase === 'reply') this.recorder.closed('reset');
      this.fail(errnoOf(err) ?? 'EUNKNOWN');
    } else this.stopLingering();
  }

  close(): void {
    if (!this.settled) this.finish(this.conversation.end('close'));
    else this.stopLingering();
  }

  /**
   * Closes gracefully: our FIN, then wait for the peer's close, discarding anything it still sends.
   * A peer that neither closes nor resets within the linger is destroyed. The deadline's timer,
   * cleared by now, is not reused: a timer's length is fixed when it is made.
   */
  linger(): void {
    const { socket } = this;
    const lingerMs = this.options.lingerMs ?? DEFAULT_LINGER_MS;
    if (socket.destroyed || socket.connecting || lingerMs <= 0) {
      socket.destroy();
      this.done(this.out as ExchangeResult<T>);
      return;
    }
    this.lingering = true;
    this.lingerTimer = setTimeout(lingerOver, lingerMs, this);
    socket.end();
  }

  /** The peer closed or failed after our FIN, or the linger ran out. */
  stopLingering(): void {
    if (!this.lingering) return;
    this.lingering = false;
    clearTimeout(this.lingerTimer);
    this.socket.destroy();
    this.done(this.out as ExchangeResult<T>);
  }
}

/**
 * The deadline passed: the verdict comes after the event loop's next poll. A process stalled past
 * the deadline (a loaded machine) runs expired timers before it reads its sockets, so without this
 * a reply that reached the socket before the deadline would be judged a timeout with no bytes. The
 * wait is one turn of the loop: a server cannot extend the deadline by it.
 */
function connectionTimeout(connection: { expiry: NodeJS.Immediate | undefined; timeout(): void }): void {
  connection.expiry = setImmediate(expire, connection);
}

function expire(connection: { timeout(): void }): void {
  connection.timeout();
}

function lingerOver(connection: { stopLingering(): void }): void {
  connection.stopLingering();
}

/** Plain TCP: the conversation on one connection, opened through the options' dialer. */
export const tcpTransport = {
  name: 'tcp',
  defaultPort: DEFAULT_PORT,
  summary: 'MSNP straight over TCP',
  exchange,
} as const satisfies Transport;
