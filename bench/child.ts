/** Spawning measured child processes: wall time, peak RSS and CPU time, streamed stdin and stdout. */
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';

const live = new Set<ChildProcess>();
/** Where the usage files go; made on first use. */
let scratch: string | null = null;
let usageFiles = 0;

/** Kills every child still running (SIGKILL) and removes the scratch directory. Idempotent. */
export function cleanUp(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
  if (scratch !== null) rmSync(scratch, { recursive: true, force: true });
  scratch = null;
}

export const USAGE_PRELOAD = fileURLToPath(new URL('./usage-preload.js', import.meta.url));

export interface Usage {
  maxRssKiB: number;
  userMs: number;
  systemMs: number;
}

export interface RunOptions {
  /** Written to the child's stdin: a string, or chunks streamed with back-pressure. */
  stdin?: string | Iterable<string> | AsyncIterable<string>;
  /** Called for every complete stdout line (the line is not kept). */
  onLine?: (line: string) => void;
  /** Keep the whole stdout (small outputs only). */
  keepStdout?: boolean;
  /** Preload usage-preload.js (node children only) and report peak RSS and CPU time. */
  usage?: boolean;
  /** SIGKILL after this long; the result says timedOut. */
  timeoutMs: number;
  /**
   * A program to run instead of node (the C reference prober). With `usage`, it must write the
   * usage file itself (BENCH_USAGE_FILE), as bench/c/prober.c does.
   */
  command?: string;
}

export interface RunResult {
  /** From just before spawn to the child's exit. */
  wallMs: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stdoutLines: number;
  stderr: string;
  usage: Usage | null;
  timedOut: boolean;
}

/** Runs `node ...args` to its end. */
export function runNode(args: string[], options: RunOptions): Promise<RunResult> {
  const env = { ...process.env };
  let usageFile: string | null = null;
  if (options.usage) {
    scratch ??= mkdtempSync(join(tmpdir(), 'msnp-bench-'));
    usageFile = join(scratch, `usage-${usageFiles++}.json`);
    env['BENCH_USAGE_FILE'] = usageFile;
    if (options.command === undefined) args = ['--import', pathToFileURL(USAGE_PRELOAD).href, ...args];
  }
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(options.command ?? process.execPath, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(child);
    let wallMs = 0;
    let timedOut = false;
    let stdout = '';
    let stdoutLines = 0;
    let pending = '';
    let stderr = '';
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.stdout.setEncoding('latin1');
    child.stdout.on('data', (chunk: string) => {
      for (let i = chunk.indexOf('\n'); i !== -1; i = chunk.indexOf('\n', i + 1)) stdoutLines++;
      if (options.keepStdout) stdout += chunk;
      if (options.onLine) {
        const parts = (pending + chunk).split('\n');
        pending = parts.pop() ?? '';
        for (const line of parts) options.onLine(line);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < 64 * 1024) stderr += chunk;
    });
    child.on('exit', () => {
      wallMs = performance.now() - started;
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      live.delete(child);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      if (options.onLine && pending !== '') options.onLine(pending);
      let usage: Usage | null = null;
      if (usageFile) {
        try {
          usage = JSON.parse(readFileSync(usageFile, 'utf8')) as Usage;
        } catch {
          usage = null;
        }
      }
      resolve({ wallMs, code, signal, stdout, stdoutLines, stderr, usage, timedOut });
    });
    // A child that exits before reading all its input is not our error; its result says what happened.
    child.stdin.on('error', () => undefined);
    if (options.stdin === undefined) child.stdin.end();
    else if (typeof options.stdin === 'string') child.stdin.end(options.stdin);
    else pipeline(Readable.from(options.stdin, { objectMode: false }), child.stdin).catch(() => undefined);
  });
}

/** A long-running node child (an emulator) that prints one ready line, then answers requests line by line. */
export interface Service {
  readyLine: string;
  /** Sends one line and resolves with the next line the service prints. */
  request(line: string): Promise<string>;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the child is gone. */
  stop(): Promise<void>;
}

export function startNodeService(args: string[], ready: RegExp, timeoutMs: number): Promise<Service> {
  return startService(process.execPath, args, ready, timeoutMs);
}

/** As startNodeService, for any program (the C server). */
export function startService(command: string, args: string[], ready: RegExp, timeoutMs: number): Promise<Service> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(child);
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => {
      if (stderr.length < 16 * 1024) stderr += c;
    });
    const exited = new Promise<void>((done) => child.once('close', () => done()));
    exited.then(() => live.delete(child)).catch(() => undefined);
    const waiting: ((line: string) => void)[] = [];
    let readyLine: string | null = null;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`service did not start within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (readyLine === null) reject(new Error(`service exited (${code}) before it was ready: ${stderr}`));
    });
    child.stdin.on('error', () => undefined);
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (readyLine === null) {
        if (!ready.test(line)) return;
        readyLine = line;
        clearTimeout(timer);
        resolve({
          readyLine,
          request: (text) =>
            new Promise((answer) => {
              waiting.push(answer);
              child.stdin.write(`${text}\n`);
            }),
          stop: async () => {
            if (child.exitCode === null && child.signalCode === null) {
              child.kill('SIGTERM');
              const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
              await exited;
              clearTimeout(kill);
            }
          },
        });
        return;
      }
      waiting.shift()?.(line);
    });
  });
}
