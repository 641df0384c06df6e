import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { LineReader } from '../codec/lines.js';
import { MAX_GATEWAY_REQUEST_BODY } from '../core/limits.js';
import type { EmulatorSession, Action } from './session.js';

export interface GatewayServerOptions {
  newSession: () => EmulatorSession;
  delayMs: number;
  /** Sessions without a request for this long are dropped (Escargot: 60 s). */
  idleTimeoutMs: number;
  maxLineBytes: number;
  signal: AbortSignal;
  /**
   * `escargot`: its gateway (GW-IP is the `IP=` value, never `Session=close`, a closed session
   * keeps answering, no `Server`/`IP` opens a switchboard session). `microsoft`: `Session=close`
   * ends a session. `none`: the server has no gateway; every request's connection is closed.
   */
  style: 'escargot' | 'microsoft' | 'none';
  /** Sessions held at once, in all (default 1024). */
  maxSessions?: number;
  /** Open sessions held at once for one client address (default 32), so one client cannot lock others out. */
  maxSessionsPerClient?: number;
  /** Answer bytes one request can gather in one session (default 256 KiB); past it the session ends. */
  maxAnswerBytes?: number;
}

interface GatewaySession {
  id: string;
  /** Null for an Escargot switchboard session (opened without `Server`/`IP`): nothing is answered. */
  session: EmulatorSession | null;
  client: string;
  /** What `GW-IP` reads: Escargot echoes the `IP=` value. */
  gwIp: string | null;
  outboxBytes: number;
  reader: LineReader;
  outbox: Buffer[];
  closed: boolean;
  lastSeen: number;
}

const ENDLESS_BODY = Buffer.alloc(64 * 1024, 0x41);

/**
 * The MSN HTTP gateway in front of emulator sessions: `POST /gateway/gateway.dll?Action=open&
 * Server=NS&IP=...` opens a session, `?SessionID=` carries commands, `?Action=poll&SessionID=`
 * fetches what is waiting. Timing faults (drip, split) lose their timing here: a reply travels in
 * one response body.
 */
export function createGatewayServer(options: GatewayServerOptions): { server: Server; stop: () => void } {
  const sessions = new Map<string, GatewaySession>();
  const perClient = new Map<string, number>();
  const maxSessions = options.maxSessions ?? 1024;
  const maxPerClient = options.maxSessionsPerClient ?? 32;
  const maxAnswerBytes = options.maxAnswerBytes ?? 256 * 1024;
  const escargot = options.style === 'escargot';
  const drop = (s: GatewaySession): void => {
    if (!sessions.delete(s.id)) return;
    const left = (perClient.get(s.client) ?? 1) - 1;
    if (left > 0) perClient.set(s.client, left);
    else perClient.delete(s.client);
  };
  /** Drops the least recently used ended session (of `client`, or of anyone). */
  const evictClosed = (client: string | null): void => {
    let oldest: GatewaySession | undefined;
    for (const s of sessions.values()) {
      if (s.closed && (client === null || s.client === client) && (!oldest || s.lastSeen < oldest.lastSeen)) oldest = s;
    }
    if (oldest) drop(oldest);
  };
  const sweeper = setInterval(
    () => {
      const now = Date.now();
      for (const s of sessions.values()) if (now - s.lastSeen > options.idleTimeoutMs) drop(s);
    },
    Math.min(1000, options.idleTimeoutMs),
  );
  sweeper.unref();

  // Fetched, not imported: see nodeHttp in src/transport/http-gateway.ts (an ESM import costs every
  // CLI run ~20 ms on Node 22+).
  const server = process
    .getBuiltinModule('node:http')
    .createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 30_000 }, (req, res) => {
      handle(req, res).catch(() => res.destroy());
    });
  server.keepAliveTimeout = Math.min(5000, options.idleTimeoutMs);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A server without a gateway (ReMessenger) drops the connection of anything HTTP.
    if (options.style === 'none') return void req.socket.destroy();
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    if (url.pathname !== '/gateway/gateway.dll') return plain(res, 404, 'Not Found');
    if (req.method !== 'POST') {
      if (escargot) return plain(res, 405, 'Method Not Allowed', { Allow: 'POST' });
      return plain(res, 404, 'Not Found');
    }
    const body = await readBody(req);
    if (body === null) return plain(res, 413, 'Payload Too Large');
    const action = url.searchParams.get('Action');
    let s: GatewaySession | undefined;
    if (action === 'open') {
      const server = url.searchParams.get('Server');
      const ip = url.searchParams.get('IP');
      const switchboard = !server || !ip;
      if (switchboard && !escargot) return plain(res, 400, 'Bad Request');
      const client = req.socket.remoteAddress ?? '';
      // Sessions the server side already ended make room first (Escargot keeps them until idle).
      if ((perClient.get(client) ?? 0) >= maxPerClient) evictClosed(client);
      if (sessions.size >= maxSessions) evictClosed(null);
      if (sessions.size >= maxSessions || (perClient.get(client) ?? 0) >= maxPerClient) {
        return plain(res, 503, 'Service Unavailable', { 'Retry-After': '60' });
      }
      const session = switchboard ? null : options.newSession();
      s = {
        id: randomUUID(),
        session,
        client,
        gwIp: escargot ? ip : null,
        outboxBytes: 0,
        reader: new LineReader({ maxLineBytes: options.maxLineBytes }),
        outbox: [],
        closed: false,
        lastSeen: Date.now(),
      };
      sessions.set(s.id, s);
      perClient.set(client, (perClient.get(client) ?? 0) + 1);
      if (session && apply(s, session.onConnect(), res) === 'reset') return;
    } else {
      s = sessions.get(url.searchParams.get('SessionID') ?? '');
      if (!s) return plain(res, 400, 'Bad Request');
    }
    s.lastSeen = Date.now();
    s.outboxBytes = 0;
    // Escargot keeps a session the server side closed; it answers later requests with nothing.
    const session = s.closed ? null : s.session;
    if (session) {
      for (const frame of s.reader.push(body)) {
        if (frame.kind === 'violation') {
          drop(s);
          return plain(res, 400, 'Bad Request');
        }
        if (apply(s, session.onLine(frame.text), res) === 'reset') return;
        if (s.closed) break;
      }
    }
    const data = Buffer.concat(s.outbox);
    s.outbox = [];
    if (data.length > 0 && options.delayMs > 0) await sleep(options.delayMs, undefined, { signal: options.signal });
    const ended = s.closed && !escargot;
    if (ended) drop(s);
    const gwIp = s.gwIp ?? req.socket.localAddress ?? '127.0.0.1';
    res.writeHead(200, {
      'Content-Type': 'application/x-msn-messenger',
      'X-MSN-Messenger': `SessionID=${s.id}; GW-IP=${gwIp}${ended ? '; Session=close' : ''}`,
      'Content-Length': data.length,
    });
    res.end(data);
  }

  function apply(s: GatewaySession, actions: Action[], res: ServerResponse): 'reset' | undefined {
    for (const a of actions) {
      if (s.closed) break;
      switch (a.type) {
        case 'send':
          if (!gather(s, a.data)) return undefined;
          break;
        case 'close':
          s.closed = true;
          break;
        case 'reset':
          drop(s);
          res.socket?.resetAndDestroy();
          return 'reset';
        case 'hang':
          break;
        case 'endless':
          if (!gather(s, ENDLESS_BODY)) return undefined;
          break;
      }
    }
    return undefined;
  }

  /** Queues answer bytes up to the per-request cap; past it the session ends (false). */
  function gather(s: GatewaySession, data: Buffer): boolean {
    const room = maxAnswerBytes - s.outboxBytes;
    const part = data.length > room ? data.subarray(0, room) : data;
    s.outbox.push(part);
    s.outboxBytes += part.length;
    if (part.length < data.length) s.closed = true;
    return !s.closed;
  }

  return {
    server,
    stop: () => {
      clearInterval(sweeper);
      sessions.clear();
      perClient.clear();
    },
  };
}

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_GATEWAY_REQUEST_BODY) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve(null));
  });
}

function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const length = Buffer.byteLength(text);
  res.writeHead(status, { ...headers, 'Content-Type': 'text/plain', 'Content-Length': length, Connection: 'close' });
  res.end(text);
}
