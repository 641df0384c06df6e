import type { Agent, IncomingHttpHeaders } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Conversation } from '../codec/conversation.js';
import type { Outcome } from '../codec/outcome.js';
import { outcomeForErrno, Recorder, type ExchangeOptions, type ExchangeResult } from './exchange.js';
import { errnoOf } from './resolve.js';

export interface GatewayOptions extends Omit<ExchangeOptions, 'lingerMs'> {
  /** The `IP=` of the open request: the notification server the gateway should talk to. */
  nsHost: string;
  /** The `Host:` header. */
  hostHeader: string;
  /** Pause between polls while waiting for the server. */
  pollMs?: number;
}

/**
 * node:http is fetched when a gateway probe runs, not imported: on Node 22 and later an ESM import
 * of node:http builds a module facade that reads every export, and reading its lazy web exports
 * loads undici (about 20 ms of start-up, measured, for every program that imports msnp-probe).
 */
const nodeHttp = (): typeof import('node:http') => process.getBuiltinModule('node:http');

/** Largest gateway response body we read; a larger one is `http-invalid` (too-large). */
export const MAX_GATEWAY_BODY = 1024 * 1024;
export const GATEWAY_PATH = '/gateway/gateway.dll';
export const DEFAULT_POLL_MS = 100;

interface SessionHeader {
  sessionId: string | null;
  gwIp: string | null;
  close: boolean;
}

/** `X-MSN-Messenger: SessionID=abc; GW-IP=1.2.3.4; Session=close`. */
export function parseMessengerHeader(value: string | undefined): SessionHeader {
  const out: SessionHeader = { sessionId: null, gwIp: null, close: false };
  for (const part of (value ?? '').split(';')) {
    const [k, v] = part.split('=').map((x) => x.trim());
    if (k === 'SessionID' && v) out.sessionId = v;
    else if (k === 'GW-IP' && v) out.gwIp = v;
    else if (k === 'Session' && v === 'close') out.close = true;
  }
  return out;
}

type HttpResult =
  | { kind: 'response'; status: number; headers: IncomingHttpHeaders; body: Buffer }
  | { kind: 'error'; errno: string; connected: boolean }
  | { kind: 'timeout'; connected: boolean }
  | { kind: 'too-large' }
  | { kind: 'aborted' };

function post(agent: Agent, options: GatewayOptions, path: string, body: string, timeoutMs: number): Promise<HttpResult> {
  return new Promise((resolve) => {
    let connected = false;
    let done = false;
    const settle = (r: HttpResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const req = nodeHttp().request({
      host: options.address,
      port: options.port,
      family: options.family ?? 0,
      method: 'POST',
      path,
      agent,
      maxHeaderSize: 16 * 1024,
      headers: {
        Host: options.hostHeader,
        'Content-Type': 'application/x-msn-messenger',
        'Content-Length': Buffer.byteLength(body, 'latin1'),
        Accept: '*/*',
        'User-Agent': 'msnp-probe',
      },
    });
    const onAbort = (): void => {
      req.destroy();
      settle({ kind: 'aborted' });
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => {
      req.destroy();
      settle({ kind: 'timeout', connected });
    }, timeoutMs);
    req.on('socket', (socket) => {
      // A kept-alive socket is reused by every poll: a listener per request would pile up on it.
      if (!socket.connecting) connected = true;
      else socket.once('connect', () => (connected = true));
    });
    req.on('error', (err) => {
      const errno = errnoOf(err) ?? 'EUNKNOWN';
      settle({ kind: 'error', errno, connected });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_GATEWAY_BODY) {
          req.destroy();
          settle({ kind: 'too-large' });
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => settle({ kind: 'response', status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', (err) => settle({ kind: 'error', errno: errnoOf(err) ?? 'ECONNRESET', connected: true }));
    });
    req.end(body, 'latin1');
  });
}

/**
 * Runs a conversation through the MSN HTTP gateway: an `Action=open` request carrying the first
 * commands, then `SessionID` requests for further commands and `Action=poll` requests while
 * waiting, one request at a time. Every request goes to the address first connected to (a probe
 * is not steered to another host by `GW-IP`), and each step gets the same deadline as over TCP.
 */
export async function gatewayExchange<T>(options: GatewayOptions, conversation: Conversation<T>): Promise<ExchangeResult<T>> {
  const recorder = new Recorder(options.transcript ?? false);
  const agent = new (nodeHttp().Agent)({ keepAlive: true, maxSockets: 1 });
  let deadline = Date.now() + options.timeoutMs;
  let sessionId: string | null = null;
  let pending: string | null = conversation.opening();
  let everConnected = false;
  const fail = (outcome: Outcome): ExchangeResult<T> => recorder.result(conversation.fail(outcome));
  try {
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return recorder.result(conversation.end('timeout'));
      const sid = encodeURIComponent(sessionId ?? '');
      const path =
        sessionId === null
          ? `${GATEWAY_PATH}?Action=open&Server=NS&IP=${encodeURIComponent(options.nsHost)}`
          : pending !== null
            ? `${GATEWAY_PATH}?SessionID=${sid}`
            : `${GATEWAY_PATH}?Action=poll&SessionID=${sid}`;
      const body = pending ?? '';
      if (body) recorder.sent(body);
      pending = null;
      const r = await post(agent, options, path, body, remaining);
      if (r.kind === 'aborted') throw options.signal?.reason ?? new Error('aborted');
      if (r.kind === 'timeout') {
        everConnected ||= r.connected;
        return everConnected ? recorder.result(conversation.end('timeout')) : fail({ status: 'timeout', reply: null, phase: 'connect' });
      }
      if (r.kind === 'error') {
        everConnected ||= r.connected;
        // A server that is not HTTP at all makes the HTTP parser fail: that is not a network error.
        if (r.errno.startsWith('HPE_')) return fail({ status: 'http-invalid', reply: null, reason: 'not-http' });
        return fail(outcomeForErrno(r.errno, everConnected ? 'reply' : 'connect'));
      }
      if (r.kind === 'too-large') return fail({ status: 'http-invalid', reply: null, reason: 'too-large' });
      everConnected = true;
      if (r.status !== 200) return fail({ status: 'http-error', reply: null, httpStatus: r.status });
      const header = parseMessengerHeader(headerValue(r.headers['x-msn-messenger']));
      if (header.sessionId === null && sessionId === null) return fail({ status: 'http-invalid', reply: null, reason: 'no-session' });
      sessionId = header.sessionId ?? sessionId;
      if (r.body.length > 0) {
        recorder.received(r.body);
        const step = conversation.push(r.body);
        if (step.type === 'done') return recorder.result(step.result);
        if (step.type === 'send') {
          recorder.mark();
          deadline = Date.now() + options.timeoutMs;
          pending = step.data;
          continue;
        }
      }
      if (header.close) return recorder.result(conversation.end('close'));
      await sleep(Math.min(options.pollMs ?? DEFAULT_POLL_MS, Math.max(0, deadline - Date.now())), undefined, options.signal ? { signal: options.signal } : undefined);
    }
  } finally {
    agent.destroy();
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
