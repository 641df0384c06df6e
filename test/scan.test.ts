import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Socket, createServer } from 'node:net';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probe, type Gate, type TargetReport } from '../src/probe/probe.js';
import { scan } from '../src/probe/scan.js';
import { startEmulator } from '../src/emulator/server.js';
import { EmulatorSession } from '../src/emulator/session.js';
import { getProfile } from '../src/emulator/profiles.js';
import type { ReportDocument, TargetDocument } from '../src/report/render/json.js';
import { BIN, PATIENCE_MS, closedPort, runBin, withEmulator, checkDocument } from './helpers.js';

async function tempFile(name: string, text: string): Promise<{ path: string; done: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'msnp-probe-'));
  const path = join(dir, name);
  await writeFile(path, text);
  return { path, done: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A test server that answers like `profile` but lets `decide` reset or hang a connection,
 * and records when each connection arrived.
 */
async function scripted(decide: (n: number, line: string) => 'answer' | 'busy' | 'reset' | 'hang') {
  const arrivals: number[] = [];
  let n = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    arrivals.push(Date.now());
    const session = new EmulatorSession(getProfile('escargot'));
    const index = n++;
    socket.once('data', (chunk) => {
      const line = chunk.toString('latin1').split('\r\n')[0] ?? '';
      const what = decide(index, line);
      if (what === 'reset') socket.resetAndDestroy();
      else if (what === 'busy') socket.end(`600 ${line.split(' ')[1] ?? '1'}\r\n`);
      else if (what === 'answer') {
        for (const a of session.onLine(line)) if (a.type === 'send') socket.write(a.data);
        socket.end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    arrivals,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/**
 * Runs `fn`, recording when each client socket asks to connect: the pacing is of connection starts,
 * and a server's arrival times add the scheduler's delay to each, unevenly (on a loaded machine,
 * starts 40 ms apart arrived 31 ms apart, and 5 starts spanning 160 ms or more arrived within 141 ms).
 */
async function connectTimes<T>(fn: () => Promise<T>): Promise<{ result: T; starts: number[] }> {
  const starts: number[] = [];
  const original = Socket.prototype.connect;
  Socket.prototype.connect = function (this: Socket, ...args: unknown[]): Socket {
    starts.push(performance.now());
    return Reflect.apply(original, this, args) as Socket;
  } as typeof original;
  try {
    return { result: await fn(), starts };
  } finally {
    Socket.prototype.connect = original;
  }
}

describe('many targets', () => {
  test('--targets FILE: matrix rows, invalid lines named, exit 3 when one target is silent', async () => {
    await withEmulator({ profile: 'msn-2014' }, async (emu) => {
      const dead = await closedPort();
      const list = await tempFile(
        't.txt',
        `# servers\n${emu.host}:${emu.port}\nnot a target at all\n` +
          `open tcp ${emu.port} 127.0.0.1 1690000000\n127.0.0.1:${dead}\n`,
      );
      try {
        const r = await runBin(['--targets', list.path, '-r', '10-16']);
        assert.equal(r.code, 3);
        assert.match(r.stderr, /^msnp-probe: --targets line 3: .*not HOST\[:PORT\] \(skipped\)$/m);
        const rows = r.stdout.split('\n').filter((l) => l.startsWith('127.0.0.1:'));
        assert.equal(rows.length, 3);
        const live = rows.filter((l) => l.startsWith(`127.0.0.1:${emu.port} `));
        assert.equal(live.length, 2);
        for (const row of live) assert.match(row, /^\S+\s+-\s+\+\s+\+\s+-\s+\+\s+\+\s+\+\s+5 accepted, prefers 16/);
        assert.match(rows.find((l) => l.startsWith(`127.0.0.1:${dead}`)) ?? '', /X\s+X\s+X.*no MSNP answer/);
        assert.match(r.stdout, /3 targets, 2 answered as MSNP/);
      } finally {
        await list.done();
      }
    });
  });

  test('--targets - (stdin) with --json: targets in input order, schema-valid', async () => {
    await withEmulator({ profile: 'escargot', faults: ['hang'] }, async (slow) => {
      await withEmulator({ profile: 'msn-2007' }, async (fast) => {
        const input = `${slow.host}:${slow.port}\n${fast.host}:${fast.port}\n`;
        const child = spawn(process.execPath, [BIN, '--targets', '-', '-r', '8', '-t', '5000', '--json'], {
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        child.stdin.end(input);
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        const code = await new Promise((r) => child.on('close', r));
        assert.equal(code, 3);
        const doc = JSON.parse(out) as ReportDocument;
        checkDocument(doc);
        assert.deepEqual(
          doc.targets.map((t) => t.port),
          [slow.port, fast.port],
        );
        assert.deepEqual(
          doc.targets.map((t) => t.probes[0]?.status),
          ['timeout', 'accepted'],
        );
      });
    });
  });

  test('--ndjson writes each target as soon as it is done; a killed run keeps every finished line', async () => {
    await withEmulator({ profile: 'escargot', faults: ['hang'] }, async (slow) => {
      await withEmulator({ profile: 'msn-2007' }, async (fast) => {
        const list = await tempFile('t.txt', `${slow.host}:${slow.port}\n${fast.host}:${fast.port}\n`);
        try {
          const child = spawn(
            process.execPath,
            [BIN, '--targets', list.path, '-r', '8-9', '-t', String(2 * PATIENCE_MS), '--ndjson'],
            { stdio: ['ignore', 'pipe', 'pipe'] },
          );
          let out = '';
          const firstLine = new Promise<void>((resolve) =>
            child.stdout.on('data', (d: Buffer) => {
              out += d.toString();
              if (out.includes('\n')) resolve();
            }),
          );
          const timer = setTimeout(() => child.kill('SIGKILL'), PATIENCE_MS);
          await firstLine;
          child.kill('SIGKILL');
          await new Promise((r) => child.on('close', r));
          clearTimeout(timer);
          const lines = out.split('\n').filter((l) => l !== '');
          assert.equal(lines.length, 1, 'only the fast target was done');
          const doc = JSON.parse(lines[0] ?? '') as TargetDocument;
          assert.equal(doc.port, fast.port);
          assert.deepEqual(doc.accepted, [8, 9]);
          checkDocument({
            schemaVersion: 1,
            tool: { name: 'msnp-probe', version: '0' },
            startedAt: new Date().toISOString(),
            durationMs: 0,
            targets: [doc],
          });
        } finally {
          await list.done();
        }
      });
    });
  });

  test('--shard I/N: the union of the shards is the unsharded run', async () => {
    const lines = Array.from({ length: 12 }, (_, i) => `127.0.0.${i + 1}:${40000 + i}`).join('\n');
    const list = await tempFile('t.txt', `${lines}\n`);
    try {
      const key = (t: TargetDocument): string => `${t.host}:${t.port}`;
      const run = async (extra: string[]): Promise<string[]> => {
        const r = await runBin(['--targets', list.path, '-r', '8', '--no-offer', '--ndjson', ...extra]);
        return r.stdout
          .split('\n')
          .filter(Boolean)
          .map((l) => key(JSON.parse(l) as TargetDocument));
      };
      const all = (await run([])).sort();
      const parts = [await run(['--shard', '1/3']), await run(['--shard', '2/3']), await run(['--shard', '3/3'])];
      assert.equal(all.length, 12);
      assert.deepEqual(parts.flat().sort(), all);
      assert.ok(parts.every((p) => p.length < 12));
    } finally {
      await list.done();
    }
  });

  test('--progress with --targets FILE counts the file for an ETA; CRLF comments, BOM and --port apply', async () => {
    await withEmulator({ profile: 'escargot', delayMs: 300 }, async (emu) => {
      const list = await tempFile(
        't.txt',
        `\ufeff# three\r\n${emu.host}\r\n${emu.host}:${emu.port}\r\n` +
          `#masscan\r\nopen tcp ${emu.port} ${emu.host} 1690000000\r\n`,
      );
      try {
        const r = await runBin([
          '--targets',
          list.path,
          '--port',
          String(emu.port),
          '-r',
          '8',
          '--no-offer',
          '--progress',
          '--ndjson',
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.trim().split('\n').length, 3);
        assert.match(r.stderr, /\/3 targets, \d+ probes, [\d.]+ probes\/s, ETA \d\d:\d\d/);
        assert.doesNotMatch(r.stderr, /skipped/);
      } finally {
        await list.done();
      }
    });
  });
  test('--shard applies to targets on the command line too', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `host${i}.invalid`);
    const seen: string[] = [];
    for (const shard of ['1/3', '2/3', '3/3']) {
      const r = await runBin([...names, '-r', '8', '--no-offer', '--ndjson', '--shard', shard]);
      for (const line of r.stdout.trim().split('\n').filter(Boolean))
        seen.push((JSON.parse(line) as TargetDocument).host);
    }
    assert.deepEqual(seen.sort(), [...names].sort());
  });
  test('a list with no valid line: exit 2 and nothing on stdout, in every output mode', async () => {
    const list = await tempFile('bad.txt', 'foo bar baz\n127.0.0.1:0\n');
    try {
      for (const mode of [[], ['--json'], ['--ndjson']]) {
        const r = await runBin(['--targets', list.path, ...mode]);
        assert.equal(r.code, 2, mode.join(' '));
        assert.equal(r.stdout, '', mode.join(' '));
        assert.match(r.stderr, /no valid target in the list/);
      }
    } finally {
      await list.done();
    }
  });
  test('global concurrency bounds connections across targets, counted on the server', async () => {
    await withEmulator({ profile: 'escargot', delayMs: 20 }, async (emu) => {
      const targets = Array.from({ length: 8 }, () => ({ host: emu.host, port: emu.port }));
      let reports = 0;
      await scan(targets, { versions: [8, 9, 10, 11], concurrency: 4, globalConcurrency: 3 }, () => {
        reports++;
      });
      assert.equal(reports, 8);
      assert.equal(emu.stats().connections, 8 * 5);
      assert.ok(emu.stats().peakActive <= 3, `peak ${emu.stats().peakActive}`);
    });
  });
});

/** Versions 8-12 of one target at 20 connections a second, all five allowed at once, with their connect times. */
const pacedAt20 = (port: number, gate?: Gate): Promise<{ result: TargetReport; starts: number[] }> =>
  connectTimes(() =>
    probe({
      host: '127.0.0.1',
      port,
      versions: [8, 9, 10, 11, 12],
      offer: false,
      ratePerSecond: 20,
      concurrency: 5,
      ...(gate ? { gate } : {}),
    }),
  );

describe('politeness and flaky networks', () => {
  test('--rate spaces new connections to one target', async () => {
    const server = await scripted(() => 'answer');
    try {
      const { result: report, starts } = await pacedAt20(server.port);
      assert.deepEqual(report.accepted, [8, 9, 10, 11, 12]);
      assert.equal(server.arrivals.length, starts.length);
      const span = (starts.at(-1) ?? 0) - (starts[0] ?? 0);
      assert.ok(span >= 4 * 50 * 0.8 - 5, `5 connections at 20/s spanned only ${span} ms`);
    } finally {
      await server.close();
    }
  });
  test('--rate holds when the shared budget lets several connections go at once', async () => {
    const server = await scripted(() => 'answer');
    try {
      // A shared budget that is full for 300 ms and then admits everything waiting: by then every
      // paced slot (0, 50, 100, 150, 200 ms) has passed, and the connections must still leave spaced.
      let admit = (): void => undefined;
      const full = new Promise<void>((resolve) => (admit = resolve));
      const timer = setTimeout(admit, 300);
      const gate: Gate = async (fn) => {
        await full;
        return fn();
      };
      const { result: report, starts } = await pacedAt20(server.port, gate);
      clearTimeout(timer);
      assert.deepEqual(report.accepted, [8, 9, 10, 11, 12]);
      assert.equal(server.arrivals.length, starts.length);
      const gaps = starts.slice(1).map((t, i) => t - (starts[i] ?? 0));
      assert.ok(Math.min(...gaps) >= 50 * 0.8 - 5, `gaps ${gaps.join(', ')} ms at 20/s`);
    } finally {
      await server.close();
    }
  });
  test('after busy answers, new connections are spaced by the back-off, not only delayed', {
    timeout: 20_000,
  }, async () => {
    const server = await scripted(() => 'busy');
    try {
      // Four at once (nothing known yet); the other four wait in turn, and the back-off, capped at
      // 2 s, must keep them apart even when two had reserved the same moment.
      const { result: report, starts } = await connectTimes(() =>
        probe({
          host: '127.0.0.1',
          port: server.port,
          versions: [8, 9, 10, 11, 12, 13, 14, 15],
          offer: false,
          concurrency: 4,
        }),
      );
      assert.ok(
        report.probes.every((p) => p.status === 'error'),
        JSON.stringify(report.probes.map((p) => p.status)),
      );
      assert.equal(server.arrivals.length, starts.length);
      const later = starts.slice(4);
      const gaps = later.slice(1).map((t, i) => t - (later[i] ?? 0));
      assert.equal(later.length, 4);
      assert.ok(Math.min(...gaps) >= 450, `connections after the first busy answers ${gaps.join(', ')} ms apart`);
    } finally {
      await server.close();
    }
  });
  test('a busy code makes the prober back off from that target', async () => {
    await withEmulator({ profile: 'escargot', faults: ['8:error:600'] }, async (emu) => {
      const started = Date.now();
      const report = await probe({ host: emu.host, port: emu.port, versions: [8, 9], offer: false, concurrency: 1 });
      assert.equal(report.probes[0]?.status, 'error');
      assert.equal(report.probes[1]?.status, 'accepted');
      assert.ok(Date.now() - started >= 450, 'the next connection waited for the back-off');
    });
  });
  test('--retries re-probes transient outcomes only, and says so', async () => {
    const seen = new Map<string, number>();
    // MSNP8: reset on the first try; MSNP9: rejected (conclusive) is never retried.
    const server = await scripted((_, line) => {
      const count = (seen.get(line) ?? 0) + 1;
      seen.set(line, count);
      return line.includes('MSNP8') && count === 1 ? 'reset' : 'answer';
    });
    try {
      const report = await probe({ host: '127.0.0.1', port: server.port, versions: [8, 22], offer: false, retries: 2 });
      const [p8, p22] = report.probes;
      assert.equal(p8?.status, 'accepted');
      assert.equal(p8?.retries, 1);
      assert.equal(p22?.status, 'rejected');
      assert.equal(p22?.retries, undefined);
      assert.equal(seen.get('VER 1 MSNP22 CVR0'), 1);
    } finally {
      await server.close();
    }
  });
  test('--attempts: errors with different codes do not agree', async () => {
    let n = 0;
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => socket.end(n++ === 1 ? '911 1\r\n' : '600 1\r\n'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as { port: number };
      const report = await probe({ host: '127.0.0.1', port, versions: [8], offer: false, attempts: 3, concurrency: 1 });
      const p = report.probes[0];
      assert.deepEqual(p?.agreement, {
        attempts: 3,
        statuses: { error: 3 },
        answers: { 'error 600': 2, 'error 911': 1 },
        agree: false,
      });
      assert.equal(p?.status === 'error' ? p.code : null, 600, 'the most common answer is reported');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
  test('--attempts repeats every probe and reports agreement', async () => {
    const server = await scripted((n, line) => (line.includes('MSNP8') && n % 2 === 0 ? 'reset' : 'answer'));
    try {
      const report = await probe({
        host: '127.0.0.1',
        port: server.port,
        versions: [8, 9],
        offer: false,
        attempts: 3,
        concurrency: 1,
      });
      const [p8, p9] = report.probes;
      assert.deepEqual(p9?.agreement, {
        attempts: 3,
        statuses: { accepted: 3 },
        answers: { accepted: 3 },
        agree: true,
      });
      assert.equal(p8?.agreement?.attempts, 3);
      assert.equal(p8?.agreement?.agree, false);
      assert.equal((p8?.agreement?.statuses.reset ?? 0) + (p8?.agreement?.statuses.accepted ?? 0), 3);
    } finally {
      await server.close();
    }
  });
});

describe('--baseline', () => {
  test('conclusive changes fail (exit 1), transient ones are inconclusive', async () => {
    const first = await startEmulator({ profile: 'escargot' });
    const port = first.port;
    const target = `127.0.0.1:${port}`;
    const saved = await runBin([target, '-r', '11-16', '--json']);
    await first.close();
    const base = await tempFile('base.json', saved.stdout);
    try {
      const again = await startEmulator({ profile: 'escargot', port });
      const same = await runBin([target, '-r', '11-16', '--baseline', base.path]);
      assert.equal(same.code, 0, same.stdout + same.stderr);
      assert.match(same.stdout, /baseline: no difference/);
      await again.close();

      const changed = await startEmulator({ profile: 'msn-2014', port, faults: ['15:hang'] });
      const r = await runBin([target, '-r', '11-16', '-t', '5000', '--baseline', base.path, '--json']);
      await changed.close();
      assert.equal(r.code, 1, r.stderr);
      const doc = JSON.parse(r.stdout) as ReportDocument;
      checkDocument(doc);
      const b = doc.targets[0]?.baseline;
      assert.deepEqual(b?.differences, [{ version: 13, before: 'accepted', after: 'rejected' }]);
      assert.deepEqual(b?.inconclusive, [{ version: 15, before: 'accepted', after: 'timeout' }]);
      assert.equal(b?.met, false);
      assert.match(r.stderr, /baseline DIFFERENCE MSNP13: accepted -> rejected/);
      assert.match(r.stderr, /baseline inconclusive MSNP15: accepted -> timeout \(transient\)/);
    } finally {
      await base.done();
    }
  });
  test('the preferred version is compared only when both runs made a conclusive offer', async () => {
    await withEmulator({ profile: 'escargot' }, async (emu) => {
      const target = `127.0.0.1:${emu.port}`;
      const saved = JSON.parse((await runBin([target, '-r', '11-16', '--json'])).stdout) as ReportDocument;
      const entry = saved.targets[0];
      assert.ok(entry?.offer && entry.preferred === 16);
      const variants: [string, object, RegExp | null][] = [
        [
          'offer timed out in the baseline',
          { ...entry, preferred: null, offer: { ...entry.offer, status: 'timeout', reply: null } },
          /baseline inconclusive preferred: none -> 16/,
        ],
        ['baseline made with --no-offer', { ...entry, preferred: null, offer: null }, null],
      ];
      for (const [what, base, line] of variants) {
        const file = await tempFile('base.ndjson', `${JSON.stringify(base)}\n`);
        try {
          const r = await runBin([target, '-r', '11-16', '--baseline', file.path]);
          assert.equal(r.code, 0, `${what}: ${r.stdout}${r.stderr}`);
          if (line) assert.match(r.stdout, line, what);
          else assert.match(r.stdout, /baseline: no difference/, what);
        } finally {
          await file.done();
        }
      }
    });
  });
  test('an NDJSON baseline cut off in its last line keeps the lines before it', async () => {
    await withEmulator({ profile: 'escargot' }, async (emu) => {
      const target = `127.0.0.1:${emu.port}`;
      const line = (await runBin([target, '-r', '11-16', '--ndjson'])).stdout.trim();
      const other = line.replace(`"port":${emu.port}`, `"port":${emu.port === 1 ? 2 : 1}`);
      const file = await tempFile('cut.ndjson', `${line}\n${other.slice(0, 40)}`);
      try {
        const r = await runBin([target, '-r', '11-16', '--baseline', file.path]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /baseline: no difference/);
        assert.equal(r.stderr, 'msnp-probe: --baseline: line 2 is cut off (a killed run?); compared without it\n');
      } finally {
        await file.done();
      }
    });
  });
  const badBaselines: [string, string, RegExp][] = [
    ['an empty file', '', /has no targets to compare with/],
    ['a document without targets', '{"schemaVersion":1,"targets":[]}', /has no targets to compare with/],
    [
      'a status no msnp-probe writes',
      '{"host":"a","port":1,"preferred":null,"probes":[{"version":8,"status":"\\u001b]0;PWNED\\u0007"}]}',
      /not an msnp-probe report/,
    ],
    [
      'a code that is not a number',
      '{"host":"a","port":1,"preferred":null,"probes":[{"version":8,"status":"error","code":"\\u001b[2J"}]}',
      /not an msnp-probe report/,
    ],
  ];
  for (const [what, text, message] of badBaselines) {
    test(`a baseline with ${what} is a usage error, one line, nothing raw`, async () => {
      const file = await tempFile('bad.json', text);
      try {
        const r = await runBin(['nowhere.invalid', '--baseline', file.path]);
        assert.equal(r.code, 2);
        assert.equal(r.stdout, '');
        assert.match(r.stderr, message);
        assert.equal(r.stderr.split('\n').length, 2, r.stderr);
        assert.doesNotMatch(r.stderr, /\x1b/);
      } finally {
        await file.done();
      }
    });
  }
  test('a baseline that is not a report is a usage error', async () => {
    const bad = await tempFile('bad.json', '{"hello": 1}');
    try {
      const r = await runBin(['127.0.0.1:1', '--baseline', bad.path]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^msnp-probe: --baseline: .*not an msnp-probe report/);
    } finally {
      await bad.done();
    }
  });
});
