/**
 * The HTTP gateway transport against small HTTP servers written here (loopback only): every
 * status class is classified as soon as its code is in, many polls leave no listeners behind,
 * and a finished probe ends its session with `OUT` like a client logging off.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { gatewayExchange, GATEWAY_PATH, type GatewayOptions } from '../src/transport/http-gateway.js';
import { VerConversation } from '../src/codec/conversation.js';
import type { Outcome } from '../src/codec/outcome.js';

interface Request {
  path: string;
  body: string;
}

/**
 * A gateway that reads each request (headers plus Content-Length bytes) and lets `answer` write
 * whatever it likes; `null` leaves the request unanswered with the connection open.
 */
async function rawGateway(answer: (req: Request, n: number) => string | null): Promise<{
  port: number;
  requests: Request[];
  connections: () => number;
  close: () => Promise<void>;
}> {
  const requests: Request[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buffer.slice(0, end);
        const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? '0');
        if (buffer.length < end + 4 + length) return;
        const path = head.split(' ')[1] ?? '';
        const req = { path, body: buffer.slice(end + 4, end + 4 + length) };
        buffer = buffer.slice(end + 4 + length);
        requests.push(req);
        const out = answer(req, requests.length);
        if (out !== null) socket.write(out, 'latin1');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    port: address.port,
    requests,
    connections: () => connections,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

function ok(body: string, sessionId = 'abc'): string {
  return (
    `HTTP/1.1 200 OK\r\nX-MSN-Messenger: SessionID=${sessionId}; GW-IP=127.0.0.1\r\n` +
    `Content-Type: application/x-msn-messenger\r\nContent-Length: ${body.length}\r\n\r\n${body}`
  );
}

function options(port: number, extra: Partial<GatewayOptions> = {}): GatewayOptions {
  const where = { address: '127.0.0.1', port, family: 4 } as const;
  return { ...where, timeoutMs: 20_000, nsHost: '127.0.0.1', hostHeader: '127.0.0.1', ...extra };
}

async function ver(port: number, extra: Partial<GatewayOptions> = {}): Promise<Outcome & { elapsedMs: number }> {
  const done = await gatewayExchange(options(port, extra), new VerConversation({ trId: 1, offered: [8] }));
  return { ...done.result, elapsedMs: done.elapsedMs };
}

describe('gateway: every HTTP status is the answer as soon as its code is in', () => {
  // The deadline is 20 s; an answer within 10 s on a loaded machine shows nobody waited for it.
  const quick = 10_000;
  const cases: [string, string][] = [
    ['100 with nothing after it', 'HTTP/1.1 100 Continue\r\n\r\n'],
    ['102 with nothing after it', 'HTTP/1.1 102 Processing\r\n\r\n'],
    ['103 with nothing after it', 'HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n'],
    ['204 with no body', 'HTTP/1.1 204 No Content\r\n\r\n'],
    ['302 with a body that never ends', 'HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1/\r\n\r\nmoved'],
    ['400 with a body that never ends', 'HTTP/1.1 400 Bad Request\r\nConnection: keep-alive\r\n\r\n'],
    ['500 announcing a body that never comes', 'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 100\r\n\r\n'],
    ['503 chunked, never finished', 'HTTP/1.1 503 Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nbusy!\r\n'],
    ['500 status line, then nothing', 'HTTP/1.1 500 Internal Server Error\r\n'],
    ['404 status code only, no reason, no line end', 'HTTP/1.0 404'],
  ];
  for (const [name, response] of cases) {
    test(name, async () => {
      const status = Number(/^HTTP\/1\.\d (\d{3})/.exec(response)?.[1]);
      const gw = await rawGateway(() => response);
      try {
        const started = performance.now();
        const outcome = await ver(gw.port);
        const got = { status: outcome.status, httpStatus: 'httpStatus' in outcome ? outcome.httpStatus : null };
        assert.deepEqual(got, { status: 'http-error', httpStatus: status });
        assert.ok(performance.now() - started < quick, `took ${Math.round(performance.now() - started)} ms`);
      } finally {
        await gw.close();
      }
    });
  }

  test('a status line and its headers split over reads: still the status', async () => {
    const pieces = ['HTTP/1.1 5', '02 Bad Gateway\r\n'];
    const split = await rawGatewayWrites(pieces);
    try {
      const outcome = await ver(split.port);
      assert.equal(outcome.status, 'http-error');
      assert.equal('httpStatus' in outcome && outcome.httpStatus, 502);
    } finally {
      await split.close();
    }
  });

  test('a 200 is still read in full', async () => {
    const gw = await rawGateway(() => ok('VER 1 MSNP8\r\n'));
    try {
      const outcome = await ver(gw.port);
      assert.equal(outcome.status, 'accepted');
    } finally {
      await gw.close();
    }
  });
});

/** A server that writes `pieces` one per event-loop turn once the request is in, then stays silent. */
async function rawGatewayWrites(pieces: string[]): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.once('data', () => {
      const write = (i: number): void => {
        const piece = pieces[i];
        if (piece === undefined || socket.destroyed) return;
        socket.write(piece, 'latin1', () => setImmediate(() => write(i + 1)));
      };
      write(0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    port: address.port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

describe('gateway: polls', () => {
  test('a gateway that needs 40 polls: no listener piles up (no MaxListenersExceededWarning)', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w);
    };
    process.on('warning', onWarning);
    const polls = 40;
    const gw = await rawGateway((_req, n) => (n <= polls ? ok('') : ok('VER 1 MSNP8\r\n')));
    try {
      const outcome = await ver(gw.port, { pollMs: 1 });
      assert.equal(outcome.status, 'accepted');
      assert.ok(gw.requests.filter((r) => r.path.includes('Action=poll')).length >= polls - 1);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(
        warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message),
        [],
      );
    } finally {
      process.off('warning', onWarning);
      await gw.close();
    }
  });
});

describe('gateway: a finished probe ends its session', () => {
  test('OUT is sent with the session id once the verdict is in', async () => {
    const gw = await rawGateway((req) => (req.body === 'OUT\r\n' ? ok('', 'sess-1') : ok('VER 1 MSNP8\r\n', 'sess-1')));
    try {
      const outcome = await ver(gw.port);
      assert.equal(outcome.status, 'accepted');
      assert.deepEqual(
        gw.requests.map((r) => [r.path, r.body]),
        [
          [`${GATEWAY_PATH}?Action=open&Server=NS&IP=127.0.0.1`, 'VER 1 MSNP8 CVR0\r\n'],
          [`${GATEWAY_PATH}?SessionID=sess-1`, 'OUT\r\n'],
        ],
      );
    } finally {
      await gw.close();
    }
  });

  test('also after a rejection and after a timeout while polling', async () => {
    const gw = await rawGateway((req) => (req.path.includes('Action=open') ? ok('VER 1 0\r\n', 's2') : ok('', 's2')));
    try {
      assert.equal((await ver(gw.port)).status, 'rejected');
      assert.equal(gw.requests.at(-1)?.body, 'OUT\r\n');
      assert.equal(gw.requests.at(-1)?.path, `${GATEWAY_PATH}?SessionID=s2`);
    } finally {
      await gw.close();
    }
    const silent = await rawGateway((req) => (req.body === 'OUT\r\n' ? ok('', 's3') : ok('', 's3')));
    try {
      assert.equal((await ver(silent.port, { timeoutMs: 300, pollMs: 20 })).status, 'timeout');
      assert.equal(silent.requests.at(-1)?.body, 'OUT\r\n');
    } finally {
      await silent.close();
    }
  });

  test('not when the server closed the session itself (Session=close)', async () => {
    const closing =
      'HTTP/1.1 200 OK\r\nX-MSN-Messenger: SessionID=s4; Session=close\r\nContent-Length: 13\r\n\r\nVER 1 MSNP8\r\n';
    const gw = await rawGateway(() => closing);
    try {
      assert.equal((await ver(gw.port)).status, 'accepted');
      assert.deepEqual(
        gw.requests.map((r) => r.body),
        ['VER 1 MSNP8 CVR0\r\n'],
      );
    } finally {
      await gw.close();
    }
  });
});
