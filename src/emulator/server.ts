import { setMaxListeners } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { LineReader } from '../codec/lines.js';
import { formatTarget } from '../input/target.js';
import { msnpError } from '../core/errors.js';
import { parseFault, type Fault } from './faults.js';
import { createGatewayServer } from './gateway-server.js';
import { getProfile, withVersions, type Profile, DEMO_PROFILE } from './profiles.js';
import { EmulatorSession, type Action, type SessionContext } from './session.js';
import type { TransportName } from '../core/model.js';

export interface EmulatorOptions {
  /** A profile name (see PROFILES) or a profile object. Default: msn-2007. */
  profile?: string | Profile;
  /** Override the profile's accepted versions. */
  versions?: readonly number[];
  /** Fault specifications (`13:reset`, `error:600`) or parsed faults. */
  faults?: readonly (string | Fault)[];
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** `tcp` (default): plain MSNP. `http`: the MSN HTTP gateway (`POST /gateway/gateway.dll`). */
  transport?: TransportName;
  /**
   * Microsoft profiles: serve as a dispatch server whose XFR points at a second, emulated
   * notification server (default true). Escargot profiles have no dispatch split.
   */
  dispatch?: boolean;
  /** Latency added before every reply, in milliseconds. */
  delayMs?: number;
  /** A connection (or gateway session) with no traffic for this long is dropped. Default 60 s. */
  idleTimeoutMs?: number;
  /** Connections open at once; more are refused by closing them. Default 1024. */
  maxConnections?: number;
  /** Longest line accepted from a client. Default 4096 bytes. */
  maxLineBytes?: number;
  /** HTTP gateway: sessions held at once (default 1024); more get HTTP 503. */
  maxGatewaySessions?: number;
  /** HTTP gateway: open sessions held at once per client address (default 32); more get HTTP 503. */
  maxGatewaySessionsPerClient?: number;
  /** HTTP gateway: answer bytes one request gathers per session (default 256 KiB); past it the session ends. */
  maxGatewayAnswerBytes?: number;
}

export interface EmulatorStats {
  /** Connections accepted since start. */
  connections: number;
  /** Connections open now (until the client's FIN). */
  active: number;
  /** Most connections open at once. */
  peakActive: number;
  /** Connections dropped because maxConnections was reached. */
  dropped: number;
}

export interface Emulator {
  host: string;
  port: number;
  profile: Profile;
  faults: readonly Fault[];
  transport: TransportName;
  /** The notification server a Microsoft-style dispatch server redirects to. */
  notification: { host: string; port: number } | null;
  stats(): EmulatorStats;
  /** Stops listening and destroys every open connection. */
  close(): Promise<void>;
}

const ENDLESS_CHUNK = Buffer.alloc(16 * 1024, 0x41);
/** Lines are parsed from a read chunk this many bytes at a time, so a chunk of tiny lines is not all queued at once. */
const LINE_SLICE_BYTES = 4096;
/** Lines answered between two turns of the event loop. */
const LINES_PER_TURN = 64;

/** Uncounts a connection in the stats; called when this server itself ends or resets it. */
const releasers = new WeakMap<Socket, () => void>();

/** Counts connections the way the tests and the prober's bounds expect, for either front. */
function trackConnections(server: Server, stats: EmulatorStats, sockets: Set<Socket>): void {
  server.on('connection', (socket: Socket) => {
    stats.connections++;
    stats.active++;
    stats.peakActive = Math.max(stats.peakActive, stats.active);
    sockets.add(socket);
    // Counted open until the client's FIN or our own close, whichever comes first, so a client that
    // waits for our close can be held to an exact bound (see `releasers`).
    let counted = true;
    const release = (): void => {
      if (counted) stats.active--;
      counted = false;
    };
    releasers.set(socket, release);
    socket.on('end', release);
    socket.on('close', () => {
      release();
      sockets.delete(socket);
    });
  });
  server.on('drop', () => {
    stats.dropped++;
  });
  // A listening error after start (rare) must not crash a host process.
  server.on('error', () => undefined);
}

function listen(server: Server, port: number, host: string): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('emulator has no TCP address'));
      else resolve({ host: address.address, port: address.port });
    });
  });
}

/** Starts an emulated MSNP server. Resolves once it listens. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  let profile = typeof options.profile === 'object' ? options.profile : getProfile(options.profile ?? DEMO_PROFILE);
  if (options.versions) profile = withVersions(profile, options.versions);
  const faults = (options.faults ?? []).map((f) => (typeof f === 'string' ? parseFault(f) : f));
  const delayMs = options.delayMs ?? 0;
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  const maxLineBytes = options.maxLineBytes ?? 4096;
  const maxConnections = options.maxConnections ?? 1024;
  const host = options.host ?? '127.0.0.1';
  const transport = options.transport ?? 'tcp';
  if (!Number.isFinite(delayMs) || delayMs < 0)
    throw msnpError('ERR_OPTION', `delay ${delayMs} must be 0 or more milliseconds`);
  const shutdown = new AbortController();
  // Every delayed or dripping reply waits on this one signal; dozens at once are expected, not a leak.
  setMaxListeners(0, shutdown.signal);
  const connection = { delayMs, idleTimeoutMs, maxLineBytes, signal: shutdown.signal };

  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    shutdown.abort();
    await Promise.all(stops.map((s) => s()));
  };

  try {
    // The notification server of a dispatch pair: plain TCP, the same profile, no faults.
    let notification: { host: string; port: number } | null = null;
    if (profile.family === 'microsoft' && options.dispatch !== false) {
      const ns = tcpFront(maxConnections, (socket) =>
        serveConnection(socket, new EmulatorSession(profile, [], { role: 'notification' }), connection),
      );
      stops.push(ns.stop);
      notification = await listen(ns.server, 0, host);
    }
    const context = (socket: Socket | null): SessionContext => {
      const role = notification ? 'dispatch' : 'notification';
      const ctx: SessionContext = { role };
      if (notification) ctx.notificationAddress = formatTarget(notification);
      if (socket?.remoteAddress)
        ctx.clientAddress = formatTarget({ host: socket.remoteAddress, port: socket.remotePort ?? 0 });
      return ctx;
    };
    const stats: EmulatorStats = { connections: 0, active: 0, peakActive: 0, dropped: 0 };
    let main: Server;
    if (transport === 'http') {
      const gateway = createGatewayServer({
        newSession: () => new EmulatorSession(profile, faults, context(null)),
        delayMs,
        idleTimeoutMs,
        maxLineBytes,
        signal: shutdown.signal,
        style: profile.family === 'remessenger' ? 'none' : profile.family,
        maxSessions: options.maxGatewaySessions,
        maxSessionsPerClient: options.maxGatewaySessionsPerClient,
        maxAnswerBytes: options.maxGatewayAnswerBytes,
      });
      main = gateway.server;
      const sockets = new Set<Socket>();
      trackConnections(main, stats, sockets);
      stops.push(async () => {
        gateway.stop();
        const closed = new Promise<void>((resolve) => main.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await closed;
      });
    } else {
      const front = tcpFront(
        maxConnections,
        (socket) => serveConnection(socket, new EmulatorSession(profile, faults, context(socket)), connection),
        stats,
      );
      main = front.server;
      stops.push(front.stop);
    }
    main.maxConnections = maxConnections;
    const address = await listen(main, options.port ?? 0, host);
    return {
      ...address,
      profile,
      faults,
      transport,
      notification,
      stats: () => ({ ...stats }),
      close: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function tcpFront(
  maxConnections: number,
  onConnection: (socket: Socket) => void,
  stats: EmulatorStats = { connections: 0, active: 0, peakActive: 0, dropped: 0 },
): { server: Server; stop: () => Promise<void> } {
  const sockets = new Set<Socket>();
  const server = createServer({ noDelay: true }, onConnection);
  server.maxConnections = maxConnections;
  trackConnections(server, stats, sockets);
  return {
    server,
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

interface ConnectionOptions {
  delayMs: number;
  idleTimeoutMs: number;
  maxLineBytes: number;
  signal: AbortSignal;
}

function serveConnection(socket: Socket, session: EmulatorSession, options: ConnectionOptions): void {
  const reader = new LineReader({ maxLineBytes: options.maxLineBytes, maxPayloadBytes: 64 * 1024 });
  // One read chunk at a time, its lines answered in order before the next chunk is read, like a
  // server whose socket buffer is full: a client that pipelines faster than the answers go out (or
  // never reads them) stops being read from. What a connection holds is one chunk and one slice
  // of its lines, whatever the client sends.
  const handle = async (chunk: Buffer): Promise<void> => {
    if (session.framing === 'per-read') {
      // One read is at most one socket buffer (64 KiB), answered as one unit, as the profile does.
      const actions = session.onRead(chunk);
      if (actions.length > 0) await perform(socket, actions, options);
      return;
    }
    for (let at = 0; at < chunk.length; at += LINE_SLICE_BYTES) {
      // Answers that go straight out never yield; let other connections in between slices.
      if (at > 0) await nextTurn();
      const frames = reader.push(chunk.subarray(at, at + LINE_SLICE_BYTES));
      for (const [i, frame] of frames.entries()) {
        // Lines that get no answer cost time too (Escargot ignores unknown commands): yield often enough
        // that a flood of them from many clients does not hold up a probe on another connection.
        if (i > 0 && i % LINES_PER_TURN === 0) await nextTurn();
        if (frame.kind === 'violation') {
          socket.destroy();
          return;
        }
        const actions = session.onLine(frame.text);
        if (actions.length > 0) await perform(socket, actions, options);
        if (socket.destroyed) return;
      }
    }
  };
  let queue: Promise<void> = perform(socket, session.onConnect(), options).catch(() => {
    socket.destroy();
  });
  socket.setTimeout(options.idleTimeoutMs, () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    socket.pause();
    queue = queue
      .then(() => handle(chunk))
      .then(
        () => {
          if (!socket.destroyed) socket.resume();
        },
        () => {
          socket.destroy();
        },
      );
  });
}

async function perform(socket: Socket, actions: Action[], options: ConnectionOptions): Promise<void> {
  const { signal } = options;
  for (const action of actions) {
    if (socket.destroyed || signal.aborted) return;
    switch (action.type) {
      case 'send':
        if (options.delayMs > 0) await sleep(options.delayMs, undefined, { signal });
        // The client may have gone during the delay.
        if (socket.destroyed) return;
        if (action.style === 'whole') {
          if (!socket.write(action.data)) await drainOrClose(socket, signal);
        } else {
          for (let i = 0; i < action.data.length && !socket.destroyed; i++) {
            if (!socket.write(action.data.subarray(i, i + 1))) await drainOrClose(socket, signal);
            await sleep(action.style === 'drip' ? action.dripMs : 1, undefined, { signal });
          }
        }
        break;
      case 'close':
        // Uncount before our FIN leaves: the client may see it, close and connect again before this
        // process reads the client's FIN (the next accept can come first in the same poll).
        releasers.get(socket)?.();
        socket.end();
        return;
      case 'reset':
        releasers.get(socket)?.();
        socket.resetAndDestroy();
        return;
      case 'hang':
        return;
      case 'endless':
        while (!socket.destroyed && !signal.aborted) {
          if (!socket.write(ENDLESS_CHUNK)) await drainOrClose(socket, signal);
        }
        return;
    }
  }
}

/** Waits for 'drain', 'close' or shutdown, then removes the listeners it added (none pile up per drain). */
function drainOrClose(socket: Socket, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    // write() also returns false on a destroyed socket, whose 'close' may already have fired.
    if (signal.aborted || socket.destroyed || !socket.writableNeedDrain) return resolve();
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
    signal.addEventListener('abort', done);
  });
}
