/**
 * This machine running out of file descriptors or ports is a local problem: it is reported as
 * `unreachable` with reason `local`, the connection is tried again after short waits, and the CLI
 * says so on stderr with exit 6 instead of blaming the server.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Socket } from 'node:net';
import { exchange, LOCAL_RETRY_DELAYS_MS } from '../src/transport/exchange.js';
import { VerConversation } from '../src/codec/conversation.js';
import type { ReportDocument } from '../src/report/render/json.js';
import { BIN, withEmulator, checkDocument } from './helpers.js';

/** A socket whose connect fails as on a machine with no descriptor left. */
class ExhaustedSocket extends Socket {
  constructor(private readonly code: string) {
    super();
  }
  override connect(): this {
    process.nextTick(() => this.destroy(Object.assign(new Error(`connect ${this.code}`), { code: this.code })));
    return this;
  }
}

describe('local errors: EMFILE, ENFILE, EADDRNOTAVAIL, ENOBUFS', () => {
  for (const code of ['EMFILE', 'ENFILE', 'EADDRNOTAVAIL', 'ENOBUFS']) {
    test(`${code} on every try: unreachable (local), after ${LOCAL_RETRY_DELAYS_MS.length} more tries`, async () => {
      let sockets = 0;
      const done = await exchange(
        {
          address: '127.0.0.1',
          port: 9,
          timeoutMs: 20_000,
          createSocket: () => {
            sockets++;
            return new ExhaustedSocket(code);
          },
        },
        new VerConversation({ trId: 1, offered: [8] }),
      );
      assert.deepEqual(done.result, { status: 'unreachable', reply: null, errno: code, reason: 'local' });
      assert.equal(sockets, LOCAL_RETRY_DELAYS_MS.length + 1);
    });
  }

  test('the machine recovers: the retried connection gets the real answer', async () => {
    await withEmulator({ profile: 'escargot', host: '127.0.0.1', port: 0 }, async (emu) => {
      let sockets = 0;
      const done = await exchange(
        {
          address: '127.0.0.1',
          port: emu.port,
          timeoutMs: 20_000,
          createSocket: () => (++sockets <= 2 ? new ExhaustedSocket('EMFILE') : new Socket()),
        },
        new VerConversation({ trId: 1, offered: [8] }),
      );
      assert.equal(done.result.status, 'accepted');
      assert.equal(sockets, 3);
    });
  });

  test('an abort during the wait rejects at once and opens nothing more', async () => {
    const controller = new AbortController();
    let sockets = 0;
    const running = exchange(
      {
        address: '127.0.0.1',
        port: 9,
        timeoutMs: 20_000,
        signal: controller.signal,
        createSocket: () => {
          sockets++;
          // Abort while the first wait runs.
          setImmediate(() => controller.abort(new Error('stop')));
          return new ExhaustedSocket('EMFILE');
        },
      },
      new VerConversation({ trId: 1, offered: [8] }),
    );
    await assert.rejects(running, /stop/);
    assert.equal(sockets, 1);
  });
});

/** Loaded before the CLI: every TCP connect fails with EMFILE, as on a machine out of descriptors. */
const EXHAUST = `
import net from 'node:net';
net.Socket.prototype.connect = function () {
  process.nextTick(() => this.destroy(Object.assign(new Error('connect EMFILE'), { code: 'EMFILE' })));
  return this;
};
`;

function runExhausted(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const preload = `data:text/javascript,${encodeURIComponent(EXHAUST)}`;
    const child = spawn(process.execPath, ['--import', preload, BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('local errors in the CLI', () => {
  test('out of descriptors: reason local in JSON, one stderr line, exit 6 (not 3: no server blamed)', async () => {
    await withEmulator({ profile: 'escargot', host: '127.0.0.1', port: 0 }, async (emu) => {
      const r = await runExhausted([`127.0.0.1:${emu.port}`, '-r', '8-9', '--json', '--expect', '8-9']);
      assert.equal(r.code, 6, r.stderr);
      const doc = JSON.parse(r.stdout) as ReportDocument;
      checkDocument(doc);
      const probes = doc.targets[0]?.probes ?? [];
      assert.deepEqual(
        probes.map((p) => [p.status, 'reason' in p ? p.reason : null, 'errno' in p ? p.errno : null]),
        [
          ['unreachable', 'local', 'EMFILE'],
          ['unreachable', 'local', 'EMFILE'],
        ],
      );
      const lines = r.stderr.split('\n').filter((l) => l.includes('could not be made'));
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0] ?? '', /^msnp-probe: 3 probes could not be made: .*EMFILE/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    });
  });

  test('the table names the reason: local, not network', async () => {
    await withEmulator({ profile: 'escargot', host: '127.0.0.1', port: 0 }, async (emu) => {
      const r = await runExhausted([`127.0.0.1:${emu.port}`, '-r', '8', '--no-offer']);
      assert.equal(r.code, 6, r.stderr);
      assert.match(r.stdout, /unreachable \(local: EMFILE\)/);
    });
  });

  test('over the HTTP gateway too', async () => {
    await withEmulator({ profile: 'escargot', host: '127.0.0.1', port: 0, transport: 'http' }, async (emu) => {
      const target = `127.0.0.1:${emu.port}`;
      const r = await runExhausted([target, '--transport', 'http', '-r', '8', '--no-offer', '--ndjson']);
      assert.equal(r.code, 6, r.stderr);
      const probe = (JSON.parse(r.stdout) as ReportDocument['targets'][number]).probes[0];
      assert.deepEqual(probe && [probe.status, 'reason' in probe ? probe.reason : null], ['unreachable', 'local']);
    });
  });
});
