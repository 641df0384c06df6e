/**
 * A proxy carries every transport: the HTTP gateway's requests and polls go through the same
 * dialer as a TCP probe, so `--proxy` with `--transport http` probes the gateway as a client behind
 * a SOCKS proxy would. Loopback only: the test proxy relays to 127.0.0.0/8 and resolves no name
 * but `localhost`, from a table.
 */
import { test, describe, before, after } from 'node:test';
import { createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { probe, type ProbeOptions } from '../src/probe/probe.js';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import type { ReportDocument } from '../src/report/render/json.js';
import { parseProxy } from '../src/transport/socks.js';
import { TRANSPORT_NAMES, transportOf } from '../src/transport/registry.js';
import { closedPort, range, ROOT, runBin, TEST_TIMEOUT_MS } from './helpers.js';
import { startTestSocks, type TestSocks } from './socks-server.js';

const schema = JSON.parse(readFileSync(`${ROOT}docs/schema/report.schema.json`, 'utf8')) as object;
const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);

let socks: TestSocks;
let gateway: Emulator;
before(async () => {
  socks = await startTestSocks();
  gateway = await startEmulator({ profile: 'escargot', versions: range(8, 12), transport: 'http' });
});
after(async () => {
  await gateway.close();
  await socks.close();
});
const noLookup = (host: string): Promise<never> => Promise.reject(new Error(`looked up ${host}`));
// Generous: the machine running the tests is shared; no assertion depends on how long a probe took.
const SLOW = { timeoutMs: 30_000 };

/** Probes the gateway emulator, returning the report, the proxy's requests and the connections the gateway saw. */
async function probeGateway(options: Partial<ProbeOptions>) {
  const seen = socks.requests.length;
  const before = gateway.stats().connections;
  const report = await probe({
    host: '127.0.0.1',
    port: gateway.port,
    transport: 'http',
    versions: range(7, 12),
    ...SLOW,
    ...options,
  });
  return { report, requests: socks.requests.slice(seen), connections: gateway.stats().connections - before };
}

describe('--proxy with --transport http', { timeout: TEST_TIMEOUT_MS }, () => {
  test('through socks5: the versions seen directly, every gateway connection through the proxy', async () => {
    const direct = await probeGateway({});
    assert.deepEqual(direct.report.accepted, [8, 9, 10, 11, 12]);
    assert.equal(direct.requests.length, 0);
    assert.equal(direct.report.proxy, undefined);

    const proxied = await probeGateway({ proxy: parseProxy(`socks5://127.0.0.1:${socks.port}`) });
    assert.deepEqual(proxied.report.accepted, direct.report.accepted);
    assert.equal(proxied.report.preferred, direct.report.preferred);
    assert.deepEqual(
      proxied.report.probes.map((p) => p.status),
      direct.report.probes.map((p) => p.status),
    );
    assert.equal(proxied.report.transport, 'http');
    assert.equal(proxied.report.proxy, `socks5://127.0.0.1:${socks.port}`);
    assert.equal(proxied.report.address, '127.0.0.1');
    // Six versions and the offer: at least one connection each, and the gateway saw no other.
    assert.ok(proxied.requests.length >= 7, `${proxied.requests.length} connections through the proxy`);
    assert.equal(
      proxied.connections,
      proxied.requests.length,
      'every connection the gateway saw came through the proxy',
    );
    assert.ok(proxied.requests.every((r) => r.kind === 'ipv4' && r.host === '127.0.0.1' && r.port === gateway.port));
  });

  test('through socks5h: the proxy resolves the name, nothing is looked up here', async () => {
    const { report, requests, connections } = await probeGateway({
      host: 'localhost',
      proxy: parseProxy(`socks5h://127.0.0.1:${socks.port}`),
      lookup: noLookup,
    });
    assert.deepEqual(report.accepted, [8, 9, 10, 11, 12]);
    assert.equal(report.preferred, 12);
    assert.equal(report.address, null);
    assert.equal(report.proxy, `socks5h://127.0.0.1:${socks.port}`);
    assert.ok(requests.length >= 7);
    assert.equal(connections, requests.length);
    assert.ok(requests.every((r) => r.kind === 'name' && r.host === 'localhost' && r.port === gateway.port));
  });

  test('through socks5h with an address: sent as the address', async () => {
    const { report, requests } = await probeGateway({
      versions: [8],
      offer: false,
      proxy: parseProxy(`socks5h://127.0.0.1:${socks.port}`),
      lookup: noLookup,
    });
    assert.deepEqual(report.accepted, [8]);
    assert.ok(requests.length >= 1 && requests.every((r) => r.kind === 'ipv4' && r.host === '127.0.0.1'));
  });

  test("the proxy's refusal is the gateway's: refused", async () => {
    const port = await closedPort();
    const { report, requests } = await probeGateway({
      port,
      versions: [8],
      offer: false,
      proxy: parseProxy(`socks5://127.0.0.1:${socks.port}`),
    });
    assert.deepEqual(requests, [{ kind: 'ipv4', host: '127.0.0.1', port }]);
    assert.equal(report.probes[0]?.status, 'refused');
    assert.equal(report.answered, false);
  });

  test('a name the proxy cannot reach: unreachable (EHOSTUNREACH), as over tcp', async () => {
    const { report } = await probeGateway({
      host: 'msn.invalid',
      versions: [8],
      offer: false,
      proxy: parseProxy(`socks5h://127.0.0.1:${socks.port}`),
      lookup: noLookup,
    });
    const p = report.probes[0];
    assert.deepEqual(p && [p.status, 'errno' in p ? p.errno : null], ['unreachable', 'EHOSTUNREACH']);
  });

  test('CLI: --transport http --proxy is no longer a usage error; the JSON names the proxy and validates', async () => {
    const r = await runBin([
      `127.0.0.1:${gateway.port}`,
      '--transport',
      'http',
      '--range',
      '8-9',
      '--json',
      '--proxy',
      `socks5://127.0.0.1:${socks.port}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as ReportDocument;
    assert.ok(validate(doc), JSON.stringify(validate.errors));
    assert.equal(doc.targets[0]?.transport, 'http');
    assert.equal(doc.targets[0]?.proxy, `socks5://127.0.0.1:${socks.port}`);
    assert.deepEqual(doc.targets[0]?.accepted, [8, 9]);
  });
});

describe('a proxy that is not there', { timeout: TEST_TIMEOUT_MS }, () => {
  // The proxy's own failure says nothing about the server: unreachable (EPROXY), never `refused`.
  for (const transport of TRANSPORT_NAMES) {
    test(`${transport}: a refused connection to the proxy is unreachable (EPROXY), not a refusal`, async () => {
      const proxyPort = await closedPort();
      const report = await probe({
        host: '127.0.0.1',
        port: transportOf(transport).defaultPort,
        transport,
        versions: [8],
        offer: false,
        proxy: parseProxy(`socks5://127.0.0.1:${proxyPort}`),
        ...SLOW,
      });
      const p = report.probes[0];
      assert.deepEqual(p && [p.status, 'errno' in p ? p.errno : null], ['unreachable', 'EPROXY']);
      assert.equal(report.answered, false);
    });
  }
});

/** A loopback server the test closes: every socket it accepted is destroyed with it. */
async function listen(
  onSocket: (socket: Socket) => void,
): Promise<{ port: number; allClosed: () => Promise<void>; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let onEmpty = (): void => undefined;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      if (sockets.size === 0) onEmpty();
    });
    socket.on('error', () => socket.destroy());
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    /** Resolves once the other side has closed every connection (or at once when none is open). */
    allClosed: () =>
      new Promise<void>((resolve) => {
        onEmpty = resolve;
        if (sockets.size === 0) resolve();
      }),
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

describe('gateway connections through the proxy', { timeout: TEST_TIMEOUT_MS }, () => {
  test('a gateway that closes after every answer: each poll connects anew, through the proxy', async () => {
    let connections = 0;
    let requests = 0;
    // Answers the open request with no MSNP yet, then the poll with the VER reply; closes after each.
    const gw = await listen((socket) => {
      connections++;
      let head = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        head += chunk;
        const end = head.indexOf('\r\n\r\n');
        const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? '0');
        if (end === -1 || head.length < end + 4 + length) return;
        requests++;
        const body = requests === 1 ? '' : 'VER 1 MSNP8\r\n';
        socket.end(
          `HTTP/1.1 200 OK\r\nX-MSN-Messenger: SessionID=s1; GW-IP=127.0.0.1\r\nConnection: close\r\n` +
            `Content-Length: ${body.length}\r\n\r\n${body}`,
        );
      });
    });
    try {
      const seen = socks.requests.length;
      const report = await probe({
        host: '127.0.0.1',
        port: gw.port,
        transport: 'http',
        versions: [8],
        offer: false,
        proxy: parseProxy(`socks5://127.0.0.1:${socks.port}`),
        ...SLOW,
      });
      assert.deepEqual(report.accepted, [8]);
      const mine = socks.requests.slice(seen);
      assert.ok(requests >= 2, `${requests} requests: the open and at least one poll`);
      assert.equal(mine.length, connections, 'one proxy request per connection the gateway saw');
      assert.ok(connections >= requests, 'the gateway closed after each answer: a new connection each time');
    } finally {
      await gw.close();
    }
  });

  for (const transport of TRANSPORT_NAMES) {
    test(`${transport}: a proxy that accepts and never answers is a connect timeout, nothing left open`, async () => {
      // Reads (and drops) what comes, so that it sees the probe's close.
      const silent = await listen((socket) => socket.resume());
      try {
        const report = await probe({
          host: '127.0.0.1',
          port: transportOf(transport).defaultPort,
          transport,
          versions: [8],
          offer: false,
          proxy: parseProxy(`socks5://127.0.0.1:${silent.port}`),
          // Short on purpose: the proxy never answers, so the outcome cannot depend on the machine's speed.
          timeoutMs: 1500,
        });
        const p = report.probes[0];
        assert.deepEqual(p && [p.status, 'phase' in p ? p.phase : null], ['timeout', 'connect']);
        // The probe gave up mid-handshake: its socket to the proxy must be closed, not left to the test.
        await assert.doesNotReject(
          Promise.race([silent.allClosed(), sleep(15_000).then(() => Promise.reject(new Error('left open')))]),
        );
      } finally {
        await silent.close();
      }
    });
  }
});
