import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { LineReader } from '../codec/lines.js';
import type { EmulatorSession, Action } from './session.js';

export interface GatewayServerOptions {
  newSession: () => EmulatorSession;
  delayMs: number;
  /** Sessions without a request for this long are dropped (Escargot: 60 s). */
  idleTimeoutMs: number;
  maxLineBytes: number;
  signal: AbortSignal;
  maxSessions?: number;
}

interface GatewaySession {
  id: string;
  session: EmulatorSession;
  reader: LineReader;
  outbox: Buffer[];
  closed: boolean;
  lastSeen: number;
}

const MAX_REQUEST_BODY = 64 * 1024;
const ENDLESS_BODY = Buffer.alloc(64 * 1024, 0x41);

/**
 * The MSN HTTP gateway in front of emulator sessions: `POST /gateway/gateway.dll?Action=open&
 * Server=NS&IP=...` opens a session, `?SessionID=` carries commands, `?Action=poll&SessionID=`
 * fetches what is waiting. Timing faults (drip, split) lose their timing here: a reply travels in
 * one response body.
 */
export function createGatewayServer(options: GatewayServerOptions): { server: Server; stop: () => void } {
  const sessions = new Map<string, GatewaySession>();
  const maxSessions = options.maxSessions ?? 1024;
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const [id, s] of sessions) if (now - s.lastSeen > options.idleTimeoutMs) sessions.delete(id);
  }, Math.min(1000, options.idleTimeoutMs));
  sweeper.unref();

  // Fetched, not imported: see nodeHttp in src/transport/gateway.ts (an ESM import costs every CLI run ~20 ms on Node 22+).
  const server = process.getBuiltinModule('node:http').createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 30_000 }, (req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.keepAliveTimeout = Math.min(5000, options.idleTimeoutMs);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    if (req.method !== 'POST' || url.pathname !== '/gateway/gateway.dll') return plain(res, 404, 'Not Found');
    const body = await readBody(req);
    if (body === null) return plain(res, 413, 'Payload Too Large');
    const action = url.searchParams.get('Action');
    let s: GatewaySession | undefined;
    if (action === 'open') {
      if (!url.searchParams.get('Server') || !url.searchParams.get('IP')) return plain(res, 400, 'Bad Request');
      if (sessions.size >= maxSessions) return plain(res, 503, 'Service Unavailable');
      const session = options.newSession();
      s = { id: randomUUID(), session, reader: new LineReader({ maxLineBytes: options.maxLineBytes }), outbox: [], closed: false, lastSeen: Date.now() };
      sessions.set(s.id, s);
      if (apply(s, session.onConnect(), res) === 'reset') return;
    } else {
      s = sessions.get(url.searchParams.get('SessionID') ?? '');
      if (!s) return plain(res, 400, 'Bad Request');
    }
    s.lastSeen = Date.now();
    for (const frame of s.reader.push(body)) {
      if (frame.kind === 'violation') {
        sessions.delete(s.id);
        return plain(res, 400, 'Bad Request');
      }
      if (apply(s, s.session.onLine(frame.text), res) === 'reset') return;
    }
    const data = Buffer.concat(s.outbox);
    s.outbox = [];
    if (data.length > 0 && options.delayMs > 0) await sleep(options.delayMs, undefined, { signal: options.signal });
    if (s.closed) sessions.delete(s.id);
    const gwIp = req.socket.localAddress ?? '127.0.0.1';
    res.writeHead(200, {
      'Content-Type': 'application/x-msn-messenger',
      'X-MSN-Messenger': `SessionID=${s.id}; GW-IP=${gwIp}${s.closed ? '; Session=close' : ''}`,
      'Content-Length': data.length,
    });
    res.end(data);
  }

  function apply(s: GatewaySession, actions: Action[], res: ServerResponse): 'reset' | undefined {
    for (const a of actions) {
      if (s.closed) break;
      switch (a.type) {
        case 'send':
          s.outbox.push(a.data);
          break;
        case 'close':
          s.closed = true;
          break;
        case 'reset':
          sessions.delete(s.id);
          res.socket?.resetAndDestroy();
          return 'reset';
        case 'hang':
          break;
        case 'endless':
          s.outbox.push(ENDLESS_BODY);
          break;
      }
    }
    return undefined;
  }

  return {
    server,
    stop: () => {
      clearInterval(sweeper);
      sessions.clear();
    },
  };
}

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BODY) {
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

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text), Connection: 'close' });
  res.end(text);
}
