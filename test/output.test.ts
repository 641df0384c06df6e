import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type StdioOptions } from 'node:child_process';
import { closeSync, createWriteStream, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import type { ReportDocument } from '../src/report/render/json.js';
import { inShard } from '../src/probe/targets.js';
import { BIN, runBin, checkDocument } from './helpers.js';

/** Generous: the machine is shared, and these runs probe thousands of targets. */
const LIMIT_MS = 120_000;

interface Spawned {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real bin with the given stdout (an fd, or a pipe handed to `onStdout`, which may end it
 * early) and calls `onData` with the stdout seen so far, to decide when to signal the child.
 */
function spawnBin(
  args: string[],
  options: {
    stdout?: number;
    onData?: (seen: string, kill: (signal: NodeJS.Signals) => void, close: () => void) => void;
  } = {},
): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env };
    delete env['FORCE_COLOR'];
    const stdio: StdioOptions = ['ignore', options.stdout ?? 'pipe', 'pipe'];
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio });
    let stdout = '';
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      options.onData?.(
        stdout,
        (signal) => child.kill(signal),
        () => child.stdout?.destroy(),
      );
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), LIMIT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

let dir = '';
let emulator: Emulator;
let slow: Emulator;
let target = '';
/** Many targets that answer quickly, one probe each with `--range 8 --no-offer`. */
let longList = '';
const LONG = 3000;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'msnp-output-'));
  emulator = await startEmulator({ profile: 'escargot', port: 0 });
  // Slow replies keep a run going long enough to be interrupted after its first report.
  slow = await startEmulator({ profile: 'escargot', port: 0, delayMs: 300 });
  target = `${emulator.host}:${emulator.port}`;
  longList = join(dir, 'long.txt');
  writeFileSync(longList, `${target}\n`.repeat(LONG));
});

after(async () => {
  await emulator.close();
  await slow.close();
  rmSync(dir, { recursive: true, force: true });
});

const ndjsonLines = (stdout: string): unknown[] =>
  stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);

describe('a target list is read exactly once', () => {
  test('a FIFO with --progress: every target probed, and the run ends', {
    skip: process.platform === 'win32',
  }, async () => {
    const fifo = join(dir, 'targets.fifo');
    execFileSync('mkfifo', [fifo]);
    const lines = 2000;
    // Opening a FIFO for writing waits for its reader: the prober.
    const writer = createWriteStream(fifo);
    writer.end(`${target}\n`.repeat(lines));
    const r = await spawnBin(['--targets', fifo, '--progress', '--range', '8', '--no-offer', '--ndjson']);
    assert.equal(r.code, 0, r.stderr.slice(-500));
    assert.equal(ndjsonLines(r.stdout).length, lines);
    // The progress line has no total: the list's length is not known without reading it twice.
    assert.match(r.stderr, /\d+ targets, \d+ probes/);
    assert.doesNotMatch(r.stderr, /\d+\/\d+ targets/);
  });

  test('a regular file with --progress still gets its ETA', async () => {
    const file = join(dir, 'short.txt');
    writeFileSync(file, `${target}\n`.repeat(20));
    const r = await spawnBin(['--targets', file, '--progress', '--range', '8', '--no-offer', '--ndjson']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(ndjsonLines(r.stdout).length, 20);
  });
});

describe('output that cannot be written fails the run', { skip: !existsSync('/dev/full') }, () => {
  const modes: [string, () => string[]][] = [
    ['table', () => [target, '--range', '8-9']],
    ['matrix', () => [target, target, '--range', '8-9']],
    ['--json', () => [target, '--range', '8-9', '--json']],
    ['--ndjson', () => [target, target, '--range', '8-9', '--ndjson']],
    ['a long --ndjson list', () => ['--targets', longList, '--range', '8', '--no-offer', '--ndjson']],
    ['a long --json list', () => ['--targets', longList, '--range', '8', '--no-offer', '--json']],
    ['demo', () => ['demo', '--range', '8-9']],
    ['demo --ndjson', () => ['demo', '--range', '8-9', '--ndjson']],
    ['demo --json', () => ['demo', '--range', '8-9', '--json']],
    ['profiles', () => ['profiles']],
    // Its address cannot be read: it stops instead of serving unseen.
    ['serve', () => ['serve', '--port', '0']],
    ['--help', () => ['--help']],
    ['--version', () => ['--version']],
  ];
  for (const [name, args] of modes) {
    test(`${name} > /dev/full: exit 5 and one line on stderr`, async () => {
      const full = openSync('/dev/full', 'w');
      try {
        const r = await spawnBin(args(), { stdout: full });
        assert.equal(r.code, 5, r.stderr);
        assert.equal(r.stderr, 'msnp-probe: cannot write output: ENOSPC\n');
      } finally {
        closeSync(full);
      }
    });
  }
});

describe('a pipe closed by its reader (| head -1)', () => {
  const closeAfterFirstLine = (seen: string, _kill: unknown, close: () => void): void => {
    if (seen.includes('\n')) close();
  };
  const longRun = (...more: string[]): string[] => ['--targets', longList, '--range', '8', '--no-offer', ...more];

  for (const mode of ['--ndjson', '--json', '--table']) {
    test(`${mode}: ends quietly, and a run cut short never exits 0`, async () => {
      const r = await spawnBin(longRun(...(mode === '--table' ? [] : [mode])), { onData: closeAfterFirstLine });
      assert.equal(r.code, 141, r.stderr);
      assert.equal(r.stderr, '');
    });
  }

  test('a failed --expect stays 1', async () => {
    const r = await spawnBin(longRun('--ndjson', '--expect', 'none'), { onData: closeAfterFirstLine });
    assert.equal(r.code, 1, r.stderr);
  });

  test('a silent target stays 3', async () => {
    const file = join(dir, 'silent-first.txt');
    writeFileSync(file, `127.0.0.1:${slow.port}\n${'127.0.0.1:1\n'.repeat(50)}${`${target}\n`.repeat(LONG)}`);
    const r = await spawnBin(['--targets', file, '--range', '8', '--no-offer', '--ndjson', '--timeout', '5000'], {
      onData: (seen, _kill, close) => {
        if (seen.includes('"answered":false')) close();
      },
    });
    assert.equal(r.code, 3, r.stderr);
  });
});

describe('SIGINT and SIGTERM keep what finished', () => {
  const slowList = (): string => {
    const file = join(dir, 'slow.txt');
    writeFileSync(file, `127.0.0.1:${slow.port}\n`.repeat(200));
    return file;
  };
  const afterFirst = (signal: NodeJS.Signals, marker: RegExp) => {
    let sent = false;
    return (seen: string, kill: (signal: NodeJS.Signals) => void): void => {
      if (!sent && marker.test(seen)) {
        sent = true;
        kill(signal);
      }
    };
  };

  test('--json, SIGINT: the document of what finished, marked interrupted, exit 130', async () => {
    const r = await spawnBin(['--targets', slowList(), '--range', '8-9', '--json', '--global-concurrency', '4'], {
      onData: afterFirst('SIGINT', /"elapsedMs": \d+\n {4}\}/),
    });
    assert.equal(r.code, 130, `${r.signal} ${r.stderr}`);
    const doc = JSON.parse(r.stdout) as ReportDocument;
    checkDocument(doc);
    assert.equal(doc.interrupted, true);
    assert.ok(doc.targets.length >= 1 && doc.targets.length < 200, String(doc.targets.length));
    for (const t of doc.targets) assert.equal(t.probes.length, 2);
    assert.match(r.stderr, /^msnp-probe: interrupted by SIGINT; \d+ targets? finished\n$/);
  });

  test('--json, SIGTERM before any target finished: an empty document, exit 143', async () => {
    const hang = await startEmulator({ profile: 'escargot', port: 0, faults: ['hang'] });
    try {
      const stopped = await new Promise<Spawned>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [
            BIN,
            `${hang.host}:${hang.port}`,
            `${hang.host}:${hang.port}`,
            '--range',
            '8',
            '--json',
            '--progress',
            '--timeout',
            String(LIMIT_MS),
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let stdout = '';
        let stderr = '';
        let sent = false;
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => {
          stderr += d;
          // The progress line shows the run has started; the server never answers.
          // Once: a second signal means "now" and would not wait for the document.
          if (!sent && /0\/2 targets/.test(stderr)) {
            sent = true;
            child.kill('SIGTERM');
          }
        });
        child.on('error', reject);
        child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
      });
      assert.equal(stopped.code, 143, `${stopped.signal} ${stopped.stderr}`);
      const doc = JSON.parse(stopped.stdout) as ReportDocument;
      checkDocument(doc);
      assert.equal(doc.interrupted, true);
      assert.deepEqual(doc.targets, []);
    } finally {
      await hang.close();
    }
  });

  test('--ndjson, SIGTERM: whole lines of what finished, exit 143', async () => {
    const r = await spawnBin(['--targets', slowList(), '--range', '8-9', '--ndjson', '--global-concurrency', '4'], {
      onData: afterFirst('SIGTERM', /\n/),
    });
    assert.equal(r.code, 143, `${r.signal} ${r.stderr}`);
    assert.ok(r.stdout.endsWith('\n'));
    assert.ok(ndjsonLines(r.stdout).length >= 1);
  });

  test('matrix, SIGINT: rows so far and the legend, exit 130', async () => {
    const r = await spawnBin(['--targets', slowList(), '--range', '8-9', '--global-concurrency', '4'], {
      onData: afterFirst('SIGINT', /127\.0\.0\.1/),
    });
    assert.equal(r.code, 130, `${r.signal} ${r.stderr}`);
    assert.match(r.stdout, /^legend: /m);
  });
});

describe('a check that probed nothing does not pass', () => {
  const lists: [string, string][] = [
    ['an empty file', ''],
    ['only comments', '# nothing here\n\n   # nor here\n'],
  ];
  for (const [name, text] of lists) {
    test(`${name} with --expect: exit 1, one line on stderr`, async () => {
      const file = join(dir, 'empty.txt');
      writeFileSync(file, text);
      const r = await runBin(['--targets', file, '--expect', '8']);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stderr, 'msnp-probe: no targets to probe (empty list or empty shard): --expect cannot pass\n');
      const plain = await runBin(['--targets', file]);
      assert.equal(plain.code, 0, plain.stderr);
    });
  }

  test('closed standard input with --baseline: exit 1', async () => {
    const baseline = join(dir, 'baseline.json');
    const json = await runBin([target, '--range', '8', '--json']);
    writeFileSync(baseline, json.stdout);
    const r = await runBin(['--targets', '-', '--baseline', baseline, '--json']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /--baseline cannot pass\n$/);
    assert.equal((JSON.parse(r.stdout) as ReportDocument).targets.length, 0);
  });

  test('an empty shard with --expect: exit 1', async () => {
    const other = [1, 2].find((index) => !inShard(emulator, { index, count: 2 }));
    const r = await runBin([target, '--shard', `${other}/2`, '--expect', '8']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /--expect cannot pass\n$/);
  });
});

test('a single target --baseline note is printed once', async () => {
  const other = await startEmulator({ profile: 'msn-2007', port: 0 });
  try {
    const baseline = join(dir, 'other.json');
    writeFileSync(baseline, (await runBin([`${other.host}:${other.port}`, '--range', '8', '--json'])).stdout);
    const r = await runBin([target, '--range', '8', '--baseline', baseline]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('this target is not in the baseline').length - 1, 1, r.stdout);
  } finally {
    await other.close();
  }
});

test('--json larger than a string can hold is written whole, as a stream', async () => {
  // Every connection gets 64 KiB of control bytes: each becomes six characters (\\u0001) in the
  // transcript's JSON, so 20 targets x 100 probes make a document past V8's 2^29-character limit.
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    // Reading (and discarding) lets the socket see the prober's FIN and close.
    socket.resume();
    socket.end(Buffer.alloc(64 * 1024, 1));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  try {
    const targets = Array.from({ length: 20 }, () => `127.0.0.1:${address.port}`);
    const child = spawn(
      process.execPath,
      [BIN, ...targets, '--transcript', '--range', '1-99', '--json', '--global-concurrency', '4'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let bytes = 0;
    let head = '';
    let tail = '';
    let hosts = 0;
    let carry = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // Read as it comes: the test cannot hold the document in one string either. The kept ends are
    // copied: a slice of a concatenation would keep every earlier chunk alive.
    const copy = (text: string): string => Buffer.from(text, 'utf8').toString('utf8');
    const marker = '\n    {\n      "host": "127.0.0.1"';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      bytes += d.length;
      if (head.length < 100) head = copy((head + d).slice(0, 100));
      const text = carry + d;
      hosts += text.split(marker).length - 1;
      // Carried text never holds a whole marker, so none is counted twice.
      carry = copy(text.slice(-(marker.length - 1)));
      tail = copy((tail + d).slice(-200));
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5 * LIMIT_MS);
      child.on('error', reject);
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    // No MSNP server answered: exit 3, and the whole document on stdout.
    assert.equal(code, 3, stderr);
    assert.ok(bytes > 2 ** 29, `${bytes} characters`);
    assert.ok(head.startsWith('{\n  "schemaVersion": 1,'), head);
    assert.match(tail, /\n {2}\],\n {2}"durationMs": \d+\n\}\n$/);
    assert.equal(hosts, 20);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
