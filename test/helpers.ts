import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { startEmulator, type Emulator, type EmulatorOptions } from '../src/emulator/server.js';
import type { ReportDocument } from '../src/report/render/json.js';
import type { Io } from '../src/cli/io.js';

export const BIN = fileURLToPath(new URL('../../bin/msnp-probe.js', import.meta.url));
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Compiled on first use: most test files never validate a document. */
let validateDocument: ValidateFunction | null = null;

/**
 * Asserts that `value` (a document, or the text of one) is valid against the published report
 * schema, docs/schema/report.schema.json, and returns it as a ReportDocument.
 */
export function checkDocument(value: unknown): ReportDocument {
  const doc: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  validateDocument ??= new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(
    JSON.parse(readFileSync(`${ROOT}docs/schema/report.schema.json`, 'utf8')) as object,
  );
  assert.ok(validateDocument(doc), JSON.stringify(validateDocument.errors, null, 2));
  return doc as ReportDocument;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment of a plain pipe, whatever the shell running the tests exports, with `extra` on top:
 * FORCE_COLOR would colour the output and COLUMNS would fit it to a width the tests do not expect.
 */
export function plainEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env['FORCE_COLOR'];
  delete env['COLUMNS'];
  return Object.assign(env, extra);
}

/** Runs the real executable with no TTY and a plain environment (plainEnv), so output is plain. */
export function runBin(
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const env = plainEnv(options.env);
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Starts an emulator for the duration of `fn`, always closing it. */
export async function withEmulator<T>(options: EmulatorOptions, fn: (emulator: Emulator) => Promise<T>): Promise<T> {
  const emulator = await startEmulator(options);
  try {
    return await fn(emulator);
  } finally {
    await emulator.close();
  }
}

/** A loopback port nobody listens on, and that no server or connection started later is given. */
export async function closedPort(): Promise<number> {
  const [port] = await closedPorts(1);
  if (port === undefined) throw new Error('no port');
  return port;
}

/** The ports the system gives for port 0 and to outgoing connections (Linux: ip_local_port_range). */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low !== undefined && high !== undefined && low > 0 && high >= low) return [low, high];
  } catch {
    // Not Linux: the range most systems use.
  }
  return [49152, 65535];
}

/** Where to look for closed ports: just outside the ephemeral range, or inside it if it leaves no room. */
function closedCandidates(): [number, number] | null {
  const [low, high] = ephemeralRange();
  if (low - 1024 >= 4096) return [Math.max(1024, low - 16384), low - 1];
  if (65535 - high >= 4096) return [high + 1, 65535];
  return null;
}

/** A server listening on `host`:`port`, or null where that cannot be listened on. */
async function bound(port: number, host = '127.0.0.1'): Promise<Server | null> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(null));
    server.listen(port, host, () => resolve(server));
  });
}

/**
 * `count` distinct loopback ports nobody listens on: all bound at once, then released, so no two
 * are the same. Taken outside the ephemeral range where there is room: a port from that range,
 * once released, may be given to the next server a test starts on port 0 (a redirect to a "dead"
 * leaf then points at a live server), or to a connection's own end.
 */
export async function closedPorts(count: number): Promise<number[]> {
  const where = closedCandidates();
  const servers: Server[] = [];
  try {
    if (where === null) {
      for (let i = 0; i < count; i++) {
        const server = await bound(0);
        if (server) servers.push(server);
      }
    } else {
      const [low, high] = where;
      const span = high - low + 1;
      const first = Math.floor(Math.random() * span);
      for (let i = 0; i < span && servers.length < count; i++) {
        const server = await bound(low + ((first + i) % span));
        if (server) servers.push(server);
      }
    }
    const ports = servers.map((s) => (s.address() as AddressInfo).port);
    if (ports.length < count) throw new Error(`only ${ports.length} of ${count} closed ports found`);
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** Whether a server can listen on the IPv6 loopback: some containers and CI machines have no ::1. */
export async function hasIpv6Loopback(): Promise<boolean> {
  const server = await bound(0, '::1');
  if (server === null) return false;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return true;
}

export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v++) out.push(v);
  return out;
}

/**
 * How long a test waits for something that should happen at once (a reply, a close, a child's
 * exit): far more than an idle machine needs, so that only a hang reaches it, never a loaded
 * 2-core machine. A passing test does not wait for it: waits end on the event.
 */
export const PATIENCE_MS = 30_000;

/**
 * A test's own time limit when it waits with PATIENCE_MS, possibly several times in a row.
 */
export const TEST_TIMEOUT_MS = 180_000;

/**
 * Over a deadline: how late a timer may fire on a loaded machine. Deadline tests assert that a
 * server could not extend the deadline by far more than this (the servers there would run on for
 * ten seconds or more).
 */
export const TIMER_SLACK_MS = 3_000;

/**
 * The deadline of a probe that must run into it, judged on what it has read by then. Not shorter:
 * a test process is often server and prober at once, and stalled past a short deadline on a loaded
 * machine, its server may not even have written the bytes an idle machine would have sent in time.
 * A stall this long is as unlikely as a timer late by TIMER_SLACK_MS.
 */
export const SHORT_DEADLINE_MS = 3_000;

/**
 * Blocks this whole process (server and prober when they share it) for `ms`, as a loaded machine
 * may: timers, sockets and replies all wait for the event loop to run again.
 */
export function stallProcess(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Polls `ok` every 10 ms until it holds; throws after `ms` (only a hang gets there). */
export async function waitUntil(what: string, ok: () => boolean, ms = PATIENCE_MS): Promise<void> {
  const deadline = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** An Io that keeps what is written, for calling a command in-process. */
export function fakeIo(): Io & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout: { write: (t: string) => (io.out += t) },
    stderr: { write: (t: string) => (io.err += t) },
    env: {},
    stopSignal: () => Promise.resolve('test'),
  };
  return io;
}
