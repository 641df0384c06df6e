import type { Agent, IncomingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';
import type { Conversation } from '../codec/conversation.js';
import { DEFAULT_GATEWAY_PORT } from '../core/defaults.js';
import { formatTarget } from '../input/target.js';
import type { Outcome } from '../codec/outcome.js';
import {
  abortableSleep,
  isLocalErrno,
  LOCAL_RETRY_DELAYS_MS,
  outcomeForErrno,
  Recorder,
  type ExchangeOptions,
  type ExchangeResult,
} from './exchange.js';
import { errnoOf } from './resolve.js';
import { tcpDialer } from './tcp.js';
import type { ConnectOptions, Transport } from './transport.js';

/** What the gateway is asked for, beside where it is. */
export interface GatewaySettings {
  /** The `IP=` of the open request: the notification server the gateway should talk to. */
  nsHost: string;
  /** The `Host:` header. */
  hostHeader: string;
  /** Pause between polls while waiting for the server. */
  pollMs?: number;
}

export interface GatewayOptions extends Omit<ExchangeOptions, 'lingerMs'>, GatewaySettings {}

/**
 * node:http is fetched when a gateway probe runs, not imported: on Node 22 and later an ESM import
 * of node:http builds a module facade that reads every export, and reading its lazy web exports
 * loads undici (about 20 ms of start-up, measured, for every program that imports msnp-probe).
 */
const nodeHttp = (): typeof import('node:http') => process.getBuiltinModule('node:http');

export { MAX_GATEWAY_BODY } from '../core/limits.js';
import { MAX_GATEWAY_BODY } from '../core/limits.js';
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

/** `HTTP/1.1 500`: enough of a status line to classify it, without waiting for headers or a body. */
const STATUS_LINE = /^HTTP\/\d\.\d (\d{3})/;
/** Bytes of a response kept while looking for its status code; a status line is far shorter. */
const STATUS_PEEK_MAX = 64;

function errnoError(errno: string): Error {
  return Object.assign(new Error(errno), { code: errno });
}

/**
 * An agent whose every new connection (the open request's, and a poll's after the gateway closed
 * the last one) is made by the dialer, directly or through a proxy, and handed to node:http only
 * once the path reaches the gateway: a proxy's handshake never meets the HTTP parser. `dialing`
 * collects the sockets, so that the caller can end one whose request was given up mid-dial.
 */
function dialingAgent(options: GatewayOptions, dialing: Set<Socket>): Agent {
  const agent = new (nodeHttp().Agent)({ keepAlive: true, maxSockets: 1 });
  const dialer = options.dialer ?? tcpDialer;
  agent.createConnection = (_args, callback) => {
    const socket = options.createSocket?.() ?? new Socket();
    dialing.add(socket);
    let settled = false;
    const settle = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      socket.off('error', onError);
      socket.off('close', onClose);
      if (err) {
        // The request reports the failure; later errors of this socket have nobody to tell.
        socket.on('error', () => undefined);
        socket.destroy();
      }
      callback?.(err, socket);
    };
    const onError = (err: Error): void => settle(err);
    const onClose = (): void => settle(errnoError('ECONNRESET'));
    socket.once('error', onError);
    socket.once('close', onClose);
    try {
      const to = { address: options.address, port: options.port, family: options.family };
      dialer.dial(socket, to, { ready: () => settle(null), fail: (errno) => settle(errnoError(errno)) });
    } catch (err) {
      // Some failures to get a socket are thrown rather than emitted.
      settle(errnoError(errnoOf(err) ?? 'EUNKNOWN'));
    }
    return undefined;
  };
  return agent;
}

function post(
  agent: Agent,
  options: GatewayOptions,
  path: string,
  body: string,
  timeoutMs: number,
): Promise<HttpResult> {
  return new Promise((resolve) => {
    if (options.signal?.aborted) {
      resolve({ kind: 'aborted' });
      return;
    }
    let connected = false;
    let done = false;
    // The agent keeps one socket across requests: whatever is added to it here must be taken off
    // again when the request settles, or every poll would leave listeners behind.
    let socketInUse: Socket | null = null;
    let peeked = '';
    const onConnect = (): void => {
      connected = true;
    };
    /**
     * Reads the status line alongside node's parser: any status but 200 is the answer as soon as
     * its code is in, even if its headers or body never come (a 1xx, a 500 and then silence).
     */
    const onPeek = (chunk: Buffer): void => {
      if (peeked.length >= STATUS_PEEK_MAX) return;
      peeked += chunk.subarray(0, STATUS_PEEK_MAX - peeked.length).toString('latin1');
      const m = STATUS_LINE.exec(peeked);
      if (m && m[1] !== '200') {
        req.destroy();
        settle({ kind: 'response', status: Number(m[1]), headers: {}, body: Buffer.alloc(0) });
      }
    };
    const settle = (r: HttpResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socketInUse?.removeListener('connect', onConnect);
      socketInUse?.removeListener('data', onPeek);
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
      if (done) return;
      socketInUse = socket;
      if (socket.connecting) socket.once('connect', onConnect);
      else connected = true;
      socket.on('data', onPeek);
    });
    req.on('error', (err) => {
      const errno = errnoOf(err) ?? 'EUNKNOWN';
      settle({ kind: 'error', errno, connected });
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        // Only a 200 carries MSNP; any other status is the answer at once, body or not.
        req.destroy();
        settle({ kind: 'response', status, headers: res.headers, body: Buffer.alloc(0) });
        return;
      }
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
      res.on('end', () => settle({ kind: 'response', status, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', (err) => settle({ kind: 'error', errno: errnoOf(err) ?? 'ECONNRESET', connected: true }));
    });
    req.end(body, 'latin1');
  });
}

/** How long the closing `OUT` request may take; its answer changes nothing in the result. */
export const GATEWAY_OUT_TIMEOUT_MS = 1000;

/**
 * Runs a conversation through the MSN HTTP gateway: an `Action=open` request carrying the first
 * commands, then `SessionID` requests for further commands and `Action=poll` requests while
 * waiting, one request at a time. Every request goes to the address first connected to (a probe
 * is not steered to another host by `GW-IP`), and each step gets the same deadline as over TCP.
 * A session the server did not close is ended like a client logging off: `OUT` with its id, so
 * the gateway does not keep it until its idle sweep.
 */
export async function gatewayExchange<T>(
  options: GatewayOptions,
  conversation: Conversation<T>,
): Promise<ExchangeResult<T>> {
  const recorder = new Recorder(options.transcript ?? false);
  const dialing = new Set<Socket>();
  const agent = dialingAgent(options, dialing);
  let deadline = performance.now() + options.timeoutMs;
  let sessionId: string | null = null;
  let sessionOpen = false;
  let pending: string | null = conversation.opening();
  let everConnected = false;
  let localRetries = 0;
  const fail = (outcome: Outcome): ExchangeResult<T> => recorder.result(conversation.fail(outcome));
  const run = async (): Promise<ExchangeResult<T>> => {
    for (;;) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) return recorder.result(conversation.end('timeout'));
      const sid = encodeURIComponent(sessionId ?? '');
      const path =
        sessionId === null
          ? `${GATEWAY_PATH}?Action=open&Server=NS&IP=${encodeURIComponent(options.nsHost)}`
          : pending !== null
            ? `${GATEWAY_PATH}?SessionID=${sid}`
            : `${GATEWAY_PATH}?Action=poll&SessionID=${sid}`;
      const body = pending ?? '';
      if (body && localRetries === 0) recorder.sent(body);
      const r = await post(agent, options, path, body, remaining);
      if (r.kind === 'aborted') throw options.signal?.reason ?? new Error('aborted');
      if (r.kind === 'error' && !r.connected && isLocalErrno(r.errno) && localRetries < LOCAL_RETRY_DELAYS_MS.length) {
        // The request never left this machine: wait, then send the same request again, without
        // letting the wait count against the server's deadline.
        const delay = LOCAL_RETRY_DELAYS_MS[localRetries++] ?? 0;
        await abortableSleep(delay, options.signal);
        deadline += delay;
        continue;
      }
      localRetries = 0;
      pending = null;
      if (r.kind === 'timeout') {
        everConnected ||= r.connected;
        return everConnected
          ? recorder.result(conversation.end('timeout'))
          : fail({ status: 'timeout', reply: null, phase: 'connect' });
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
      if (header.sessionId === null && sessionId === null)
        return fail({ status: 'http-invalid', reply: null, reason: 'no-session' });
      sessionId = header.sessionId ?? sessionId;
      sessionOpen = !header.close;
      if (r.body.length > 0) {
        recorder.received(r.body);
        const step = conversation.push(r.body);
        if (step.type === 'done') return recorder.result(step.result);
        if (step.type === 'send') {
          recorder.mark();
          deadline = performance.now() + options.timeoutMs;
          pending = step.data;
          continue;
        }
      }
      if (header.close) return recorder.result(conversation.end('close'));
      const pause = Math.min(options.pollMs ?? DEFAULT_POLL_MS, Math.max(0, deadline - performance.now()));
      await abortableSleep(pause, options.signal);
    }
  };
  try {
    const result = await run();
    if (sessionOpen && sessionId !== null) {
      // Only after the result is taken, so the time it takes is not the server's answer time.
      const out = `${GATEWAY_PATH}?SessionID=${encodeURIComponent(sessionId)}`;
      await post(agent, options, out, 'OUT\r\n', Math.min(options.timeoutMs, GATEWAY_OUT_TIMEOUT_MS));
    }
    return result;
  } finally {
    agent.destroy();
    for (const socket of dialing) socket.destroy();
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The gateway's settings for a target: `IP=` and `Host:` name it as it was given. */
export function gatewayOptionsOf(options: ConnectOptions): GatewayOptions {
  const host = options.host ?? options.address;
  const { transport: _transport, host: _host, gateway, lingerMs: _lingerMs, ...where } = options;
  const hostHeader = options.port === DEFAULT_GATEWAY_PORT ? host : formatTarget({ host, port: options.port });
  return {
    ...where,
    nsHost: gateway?.nsHost ?? host,
    hostHeader: gateway?.hostHeader ?? hostHeader,
    ...(gateway?.pollMs !== undefined ? { pollMs: gateway.pollMs } : {}),
  };
}

function httpExchange<T>(options: ConnectOptions, conversation: Conversation<T>): Promise<ExchangeResult<T>> {
  return gatewayExchange(gatewayOptionsOf(options), conversation);
}

/** MSNP tunnelled through the MSN HTTP gateway: requests and polls, each connection through the dialer. */
export const httpTransport = {
  name: 'http',
  defaultPort: DEFAULT_GATEWAY_PORT,
  summary: 'tunnel through the MSN HTTP gateway',
  exchange: httpExchange,
} as const satisfies Transport;
