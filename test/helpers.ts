import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
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

/** Runs the real executable with NO_COLOR unset and no TTY, so output is plain. */
export function runBin(
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env };
    // Output as on a plain pipe, whatever the shell running the tests exports; a test may set them.
    delete env['FORCE_COLOR'];
    delete env['COLUMNS'];
    Object.assign(env, options.env);
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

/** A loopback port nobody listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * `count` distinct loopback ports nobody listens on: all bound at once, then released, so no two
 * are the same (ports released one by one may be handed out again at once).
 */
export async function closedPorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))));
  const ports = servers.map((s) => {
    const address = s.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  });
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
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
