import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Registry } from 'prom-client';
import { parseTarget, type Target } from '../input/target.js';
import { msnpError } from '../core/errors.js';
import { probe, type TargetReport } from '../probe/probe.js';
import { defaultPortFor } from '../transport/registry.js';
import { TRAIT_PROBES } from '../probe/fingerprint/traits.js';
import type { LookupFn } from '../transport/resolve.js';
import { buildAllowList, defaultModule, type AllowList, type ExporterConfig, type ExporterModule } from './config.js';
import { probeRegistry } from './metrics.js';
import { MAX_HEADER_BYTES, MAX_SCRAPE_TIMEOUT_SECONDS, MAX_URL_BYTES } from '../core/limits.js';
import { DEFAULT_EXPORTER_PORT, DEFAULT_MAX_CONCURRENT_PROBES, DEFAULT_MAX_CONNECTIONS } from '../core/defaults.js';

export { DEFAULT_EXPORTER_PORT, DEFAULT_MAX_CONCURRENT_PROBES, DEFAULT_MAX_CONNECTIONS } from '../core/defaults.js';
/** Without `X-Prometheus-Scrape-Timeout-Seconds`: Prometheus' own default scrape timeout. */
export const DEFAULT_SCRAPE_TIMEOUT_SECONDS = 10;
/** Taken off the scrape timeout, so the answer reaches Prometheus before it gives up. */
export const SCRAPE_TIMEOUT_MARGIN_SECONDS = 0.5;
export { MAX_SCRAPE_TIMEOUT_SECONDS, MAX_URL_BYTES, MAX_HEADER_BYTES } from '../core/limits.js';
const HEADERS_TIMEOUT_MS = 10_000;

export interface ExporterOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 9863; 0 for any free port. */
  port?: number;
  config?: ExporterConfig;
  /** Hosts, addresses and CIDR blocks that may be probed, beside the targets the config's modules name. */
  allow?: readonly string[];
  maxConcurrentProbes?: number;
  maxConnections?: number;
  /** Name resolution for targets given by name; defaults to the system resolver. */
  lookup?: LookupFn;
}

export interface Exporter {
  host: string;
  port: number;
  /** Stops listening, aborts running probes and closes every connection. */
  close(): Promise<void>;
}

/** A request the exporter refuses, with the status code and a one-line message that echoes nothing. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

const QUERY_KEYS = ['target', 'module'] as const;

interface ProbeRequest {
  target: Target;
  module: ExporterModule;
  /** The probe's whole deadline, in ms. */
  budgetMs: number;
}

/** Reads the scrape timeout Prometheus sends; refuses anything but a plain positive number. */
export function scrapeBudgetMs(header: string | string[] | undefined): number {
  if (Array.isArray(header))
    throw new Refusal(400, 'X-Prometheus-Scrape-Timeout-Seconds given more than once', 'bad_request');
  let seconds = DEFAULT_SCRAPE_TIMEOUT_SECONDS;
  if (header !== undefined) {
    if (!/^\d{1,6}(\.\d{1,9})?$/.test(header.trim()) || Number(header) <= 0) {
      throw new Refusal(400, 'X-Prometheus-Scrape-Timeout-Seconds must be a positive number of seconds', 'bad_request');
    }
    seconds = Math.min(Number(header), MAX_SCRAPE_TIMEOUT_SECONDS);
  }
  // A very short scrape timeout keeps half of itself rather than nothing.
  return Math.max(seconds - SCRAPE_TIMEOUT_MARGIN_SECONDS, seconds / 2) * 1000;
}

/**
 * The per-connection timeout that fits the budget: name resolution and each wave of connections
 * (versions plus the offer, `concurrency` at a time) may each take a whole timeout.
 */
export function connectionTimeoutMs(module: ExporterModule, budgetMs: number): number {
  // The fingerprint's probes follow the version probes under the same concurrency.
  const connections = module.versions.length + 1 + (module.fingerprint ? TRAIT_PROBES.length : 0);
  const waves = Math.ceil(connections / module.concurrency) + 1;
  return Math.max(1, Math.min(module.timeoutMs, Math.floor(budgetMs / waves)));
}

function readQuery(url: URL, modules: Map<string, ExporterModule>, allow: AllowList): Omit<ProbeRequest, 'budgetMs'> {
  const seen = new Set<string>();
  for (const key of url.searchParams.keys()) {
    if (!(QUERY_KEYS as readonly string[]).includes(key)) {
      throw new Refusal(400, `unknown query parameter (known: ${QUERY_KEYS.join(', ')})`, 'bad_request');
    }
    if (seen.has(key)) throw new Refusal(400, `${key} given more than once`, 'bad_request');
    seen.add(key);
  }
  const moduleName = url.searchParams.get('module');
  let module: ExporterModule;
  if (moduleName === null) {
    module = modules.get('default') ?? defaultModule();
  } else {
    const found = modules.get(moduleName);
    if (!found)
      throw new Refusal(400, `unknown module (known: ${[...modules.keys()].join(', ') || 'none'})`, 'bad_request');
    module = found;
  }
  const text = url.searchParams.get('target');
  if (text === null || text.trim() === '')
    throw new Refusal(400, 'target is missing: /probe?target=HOST:PORT', 'bad_request');
  let target: Target;
  try {
    if (text.length > 300) throw new Error('too long');
    target = parseTarget(text, defaultPortFor(module.transport));
  } catch {
    throw new Refusal(400, 'target is not HOST, HOST:PORT or [IPv6]:PORT (an IP address or host name)', 'bad_request');
  }
  if (!allow.allows(target)) {
    throw new Refusal(403, "target is not allowed: add it to --allow or to a module's targets", 'forbidden');
  }
  return { target, module };
}

function helpPage(modules: Map<string, ExporterModule>): string {
  const names = [...modules.keys()];
  return [
    '<!doctype html>',
    '<html><head><meta charset="utf-8"><title>msnp-probe exporter</title></head><body>',
    '<h1>msnp-probe exporter</h1>',
    '<p>Which MSN Messenger protocol (MSNP) versions does a server accept, in the Prometheus text format.</p>',
    '<ul>',
    '<li><code>/probe?target=HOST:PORT</code>: probe one allowed target with the default module</li>',
    '<li><code>/probe?target=HOST:PORT&amp;module=NAME</code>: with a module of the config</li>',
    '<li><a href="/metrics">/metrics</a>: the exporter\'s own metrics</li>',
    '</ul>',
    // Module names are checked against [A-Za-z0-9_.-] when the config is read: safe in HTML.
    `<p>Modules: ${names.map((n) => `<code>${n}</code>`).join(', ') || 'none (the default module only)'}</p>`,
    '</body></html>',
    '',
  ].join('\n');
}

/** Starts the exporter's HTTP server. Resolves once it listens. */
export async function startExporter(options: ExporterOptions = {}): Promise<Exporter> {
  const modules = options.config?.modules ?? new Map<string, ExporterModule>();
  const allow = buildAllowList(options.allow ?? [], options.config ?? { modules });
  const maxProbes = options.maxConcurrentProbes ?? DEFAULT_MAX_CONCURRENT_PROBES;
  if (!Number.isInteger(maxProbes) || maxProbes < 1)
    throw msnpError('ERR_OPTION', 'max concurrent probes must be at least 1');

  // Loaded here, not at start-up: only the exporter needs it (the CLI bundle leaves it out).
  const { collectDefaultMetrics, Counter, Gauge, Histogram, Registry: OwnRegistry } = await import('prom-client');
  const own = new OwnRegistry();
  collectDefaultMetrics({ register: own });
  const probesTotal = new Counter({
    name: 'msnp_exporter_probes_total',
    help:
      'Probes run, by module and result ' +
      '(success: answered as MSNP; failure: did not; deadline: cut off; cancelled; error).',
    labelNames: ['module', 'result'],
    registers: [own],
  });
  const probeSeconds = new Histogram({
    name: 'msnp_exporter_probe_duration_seconds',
    help: 'How long probes took, in seconds.',
    labelNames: ['module'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [own],
  });
  const inFlight = new Gauge({ name: 'msnp_exporter_probes_in_flight', help: 'Probes running now.', registers: [own] });
  const refused = new Counter({
    name: 'msnp_exporter_requests_refused_total',
    help: 'Requests answered with an error, by reason (bad_request, forbidden, busy, not_found, method, too_large).',
    labelNames: ['reason'],
    registers: [own],
  });

  const running = new Set<AbortController>();
  let probesRunning = 0;

  const send = (res: ServerResponse, status: number, type: string, body: string, head = false): void => {
    res.writeHead(status, {
      'content-type': type,
      'content-length': Buffer.byteLength(body),
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    });
    res.end(head ? undefined : body);
  };

  const runProbe = async (request: ProbeRequest, gone: AbortSignal): Promise<Registry> => {
    const { target, module, budgetMs } = request;
    const controller = new AbortController();
    const onGone = (): void => controller.abort(gone.reason);
    gone.addEventListener('abort', onGone, { once: true });
    const timer = setTimeout(() => controller.abort(new Error('deadline')), budgetMs);
    running.add(controller);
    const started = performance.now();
    const label = module.name || 'default';
    let report: TargetReport | null = null;
    let result = 'error';
    let durationSeconds = 0;
    try {
      report = await probe({
        host: target.host,
        port: target.port,
        versions: module.versions,
        timeoutMs: connectionTimeoutMs(module, budgetMs),
        concurrency: module.concurrency,
        deep: module.deep,
        fingerprint: module.fingerprint,
        transport: module.transport,
        signal: controller.signal,
        ...(options.lookup ? { lookup: options.lookup } : {}),
      });
      result = report.answered ? 'success' : 'failure';
    } catch (err) {
      if (!controller.signal.aborted) throw err;
      result = gone.aborted ? 'cancelled' : 'deadline';
    } finally {
      clearTimeout(timer);
      gone.removeEventListener('abort', onGone);
      running.delete(controller);
      durationSeconds = (performance.now() - started) / 1000;
      probesTotal.inc({ module: label, result });
      probeSeconds.observe({ module: label }, durationSeconds);
    }
    return await probeRegistry({ report, durationSeconds, deadlineSeconds: budgetMs / 1000, deep: module.deep });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('allow', 'GET, HEAD');
      throw new Refusal(405, 'only GET and HEAD', 'method');
    }
    // A scrape has no body; one is refused unread rather than buffered.
    const length = req.headers['content-length'];
    if ((length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined) {
      res.setHeader('connection', 'close');
      throw new Refusal(413, 'requests take no body', 'too_large');
    }
    const raw = req.url ?? '/';
    if (raw.length > MAX_URL_BYTES)
      throw new Refusal(414, `the URL is longer than ${MAX_URL_BYTES} bytes`, 'too_large');
    let url: URL;
    try {
      url = new URL(raw, 'http://exporter.invalid');
    } catch {
      throw new Refusal(400, 'the URL cannot be read', 'bad_request');
    }
    switch (url.pathname) {
      case '/':
        send(res, 200, 'text/html; charset=utf-8', helpPage(modules), head);
        return;
      case '/metrics':
        send(res, 200, own.contentType, await own.metrics(), head);
        return;
      case '/probe': {
        const query = readQuery(url, modules, allow);
        const budgetMs = scrapeBudgetMs(req.headers['x-prometheus-scrape-timeout-seconds']);
        if (probesRunning >= maxProbes) {
          res.setHeader('retry-after', '1');
          throw new Refusal(503, `${maxProbes} probes are running already; try again later`, 'busy');
        }
        probesRunning++;
        inFlight.inc();
        // A scraper that hangs up gives its probe back: nobody reads the answer.
        const gone = new AbortController();
        const onClose = (): void => {
          if (!res.writableFinished) gone.abort(new Error('client gone'));
        };
        res.on('close', onClose);
        try {
          const registry = await runProbe({ ...query, budgetMs }, gone.signal);
          if (!gone.signal.aborted) send(res, 200, registry.contentType, await registry.metrics(), head);
        } finally {
          res.off('close', onClose);
          probesRunning--;
          inFlight.dec();
        }
        return;
      }
      default:
        throw new Refusal(404, 'not found: try /, /probe?target=HOST:PORT or /metrics', 'not_found');
    }
  };

  const server = createServer(
    { maxHeaderSize: MAX_HEADER_BYTES, headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: HEADERS_TIMEOUT_MS },
    (req, res) => {
      handle(req, res).catch((err: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        if (err instanceof Refusal) {
          refused.inc({ reason: err.reason });
          send(res, err.status, 'text/plain; charset=utf-8', `${err.message}\n`, req.method === 'HEAD');
        } else {
          send(res, 500, 'text/plain; charset=utf-8', 'internal error\n', req.method === 'HEAD');
        }
      });
    },
  );
  server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  // A broken client socket must not crash the process.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  });

  const address = await new Promise<{ host: string; port: number }>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_EXPORTER_PORT, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      const a = server.address();
      if (a === null || typeof a === 'string') reject(new Error('the exporter has no TCP address'));
      else resolve({ host: a.address, port: a.port });
    });
  });
  server.on('error', () => undefined);

  return {
    ...address,
    close: async () => {
      for (const c of running) c.abort(new Error('exporter stopping'));
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
