import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { withEmulator } from './helpers.js';

interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function http(port: number, path: string, body = '', method = 'POST', localAddress = '127.0.0.1'): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        localAddress,
        agent: false,
        headers: { 'Content-Type': 'application/x-msn-messenger' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const OPEN = '/gateway/gateway.dll?Action=open&Server=NS&IP=127.0.0.2';
const sessionOf = (a: HttpAnswer): string => /SessionID=([^;]+)/.exec(String(a.headers['x-msn-messenger']))?.[1] ?? '';

describe('escargot gateway: session semantics as Escargot has them', () => {
  test('open: SessionID and GW-IP = the IP= value, single-version answer', async () => {
    await withEmulator({ profile: 'escargot', transport: 'http' }, async (emu) => {
      const a = await http(emu.port, OPEN, 'VER 1 MSNP8 CVR0\r\n');
      assert.equal(a.status, 200);
      assert.match(String(a.headers['x-msn-messenger']), /^SessionID=[0-9a-f-]{36}; GW-IP=127\.0\.0\.2$/);
      assert.equal(a.headers['content-type'], 'application/x-msn-messenger');
      assert.equal(a.body.toString(), 'VER 1 MSNP8\r\n');
    });
  });
  test('never Session=close; a session the server closed keeps answering (empty)', async () => {
    await withEmulator({ profile: 'escargot', transport: 'http' }, async (emu) => {
      const a = await http(emu.port, OPEN, 'VER 1 MSNP8 CVR0\r\nOUT\r\n');
      assert.equal(a.body.toString(), 'VER 1 MSNP8\r\n');
      assert.doesNotMatch(String(a.headers['x-msn-messenger']), /Session=close/);
      const id = sessionOf(a);
      for (const path of [`/gateway/gateway.dll?SessionID=${id}`, `/gateway/gateway.dll?Action=poll&SessionID=${id}`]) {
        const later = await http(
          emu.port,
          path,
          path.includes('poll') ? '' : 'CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 8.5.1302 msmsgs a@b.c\r\n',
        );
        assert.equal(later.status, 200);
        assert.equal(later.body.length, 0);
        assert.equal(String(later.headers['x-msn-messenger']), `SessionID=${id}; GW-IP=127.0.0.2`);
      }
    });
  });
  test('no Server/IP: a switchboard session (opened, NS commands unanswered); non-POST: 405', async () => {
    await withEmulator({ profile: 'escargot', transport: 'http' }, async (emu) => {
      const sb = await http(emu.port, '/gateway/gateway.dll?Action=open', 'VER 1 MSNP8 CVR0\r\n');
      assert.equal(sb.status, 200);
      assert.ok(sessionOf(sb));
      assert.equal(sb.body.length, 0);
      assert.equal((await http(emu.port, OPEN, '', 'GET')).status, 405);
    });
  });
  test('sessions are dropped after the idle time (60 s by default)', async () => {
    await withEmulator({ profile: 'escargot', transport: 'http', idleTimeoutMs: 400 }, async (emu) => {
      const id = sessionOf(await http(emu.port, OPEN, 'VER 1 MSNP8 CVR0\r\n'));
      const deadline = Date.now() + 15_000;
      let status = 200;
      // Not polled faster than the idle time, so the polls themselves do not keep it alive.
      while (status === 200 && Date.now() < deadline) {
        await sleep(1000);
        status = (await http(emu.port, `/gateway/gateway.dll?Action=poll&SessionID=${id}`)).status;
      }
      assert.equal(status, 400);
    });
  });
});

describe('gateway bounds: one client cannot lock others out or amplify without limit', () => {
  test('per-client cap: the fourth open session of one address gets 503, another address still gets in', async () => {
    await withEmulator({ profile: 'escargot', transport: 'http', maxGatewaySessionsPerClient: 3 }, async (emu) => {
      for (let i = 0; i < 3; i++) assert.equal((await http(emu.port, OPEN, 'VER 1 MSNP8 CVR0\r\n')).status, 200);
      const over = await http(emu.port, OPEN, 'VER 1 MSNP8 CVR0\r\n');
      assert.equal(over.status, 503);
      const other = await http(emu.port, OPEN, 'VER 1 MSNP8 CVR0\r\n', 'POST', '127.0.0.2');
      assert.equal(other.status, 200);
      assert.equal(other.body.toString(), 'VER 1 MSNP8\r\n');
    });
  });
  test('sessions the server ended make room: a client opening one per version is not locked out', async () => {
    await withEmulator({ profile: 'escargot', transport: 'http', maxGatewaySessionsPerClient: 3 }, async (emu) => {
      for (let v = 1; v <= 25; v++) {
        const a = await http(emu.port, OPEN, `VER 1 MSNP${v} CVR0\r\nOUT\r\n`);
        assert.equal(a.status, 200, `MSNP${v}`);
        assert.equal(a.body.toString(), v >= 2 && v <= 21 ? `VER 1 MSNP${v}\r\n` : 'VER 1 0\r\n');
      }
    });
  });
  test('total cap: 503 once every slot holds an open session', async () => {
    await withEmulator({ profile: 'escargot', transport: 'http', maxGatewaySessions: 2 }, async (emu) => {
      assert.equal((await http(emu.port, OPEN, 'VER 1 MSNP8 CVR0\r\n')).status, 200);
      assert.equal((await http(emu.port, OPEN, 'VER 1 MSNP8 CVR0\r\n', 'POST', '127.0.0.2')).status, 200);
      assert.equal((await http(emu.port, OPEN, 'VER 1 MSNP8 CVR0\r\n', 'POST', '127.0.0.3')).status, 503);
    });
  });
  test('answer bytes per request are capped; past the cap the session ends', async () => {
    const cap = 100_000;
    for (const profile of ['escargot', 'escargot@2017-05-30']) {
      await withEmulator(
        { profile, transport: 'http', faults: ['endless'], maxGatewayAnswerBytes: cap },
        async (emu) => {
          // 50 commands that each ask for 64 KiB of answer: 3.2 MB without the cap.
          const a = await http(emu.port, OPEN, 'VER 1 MSNP8 CVR0\r\n'.repeat(50));
          assert.equal(a.status, 200);
          assert.equal(a.body.length, cap, profile);
          const later = await http(emu.port, `/gateway/gateway.dll?SessionID=${sessionOf(a)}`, 'VER 1 MSNP8 CVR0\r\n');
          assert.ok(later.body.length === 0, profile);
        },
      );
    }
  });
});

describe('remessenger has no HTTP gateway', () => {
  test('a POST to its gateway front is closed without an answer', async () => {
    await withEmulator({ profile: 'remessenger', transport: 'http' }, async (emu) => {
      await assert.rejects(http(emu.port, OPEN, 'VER 1 MSNP8 CVR0\r\n'), /socket hang up|ECONNRESET/);
    });
  });
});
