import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import * as reply from '../src/emulator/replies.js';
import { range } from './helpers.js';
import { openWire, runExchange, type Exchange } from './raw-exchange.js';

/** An 8-field CVR with the client version 8.5.1302. */
const CVR8 = (t: string | number): string =>
  `CVR ${t} 0x0409 winnt 5.1 i386 MSNMSGR 8.5.1302 msmsgs probe@example.com\r\n`;
const CVR_REPLY = (t: string | number): string =>
  `CVR ${t} 8.5.1302 8.5.1302 8.5.1302 https://escargot.log1p.xyz https://escargot.log1p.xyz\r\n`;
const ver = (v: number): { send: string; expect: string } => ({
  send: `VER 1 MSNP${v} CVR0\r\n`,
  expect: `VER 1 MSNP${v}\r\n`,
});
const SALT = /^USR 3 MD5 S \d{10}\.\d+\r\n$/;
const NONCE = '[A-Za-z0-9+/]{64}';
const POLICIES = reply.gcfPolicies();

/** Escargot at HEAD: one row per case of docs/PROTOCOL.md, "Escargot in detail". */
const TODAY: Exchange[] = [
  ...range(2, 21).map(
    (v): Exchange => ({
      name: `MSNP${v} accepted, single-version echo`,
      steps: [ver(v)],
      end: 'open',
    }),
  ),
  ...[1, 22, 23, 24, 25].map(
    (v): Exchange => ({
      name: `MSNP${v} rejected: VER 1 0, then close`,
      steps: [{ send: `VER 1 MSNP${v} CVR0\r\n`, expect: 'VER 1 0\r\n' }],
      end: 'closed',
    }),
  ),
  {
    name: 'combined offer 21..15: its own order picks 18',
    steps: [
      {
        send: `VER 1 ${range(15, 21)
          .reverse()
          .map((v) => `MSNP${v}`)
          .join(' ')} CVR0\r\n`,
        expect: 'VER 1 MSNP18\r\n',
      },
    ],
    end: 'open',
  },
  {
    name: 'MSNP21 MSNP20 MSNP18 CVR0 -> MSNP18',
    steps: [{ send: 'VER 1 MSNP21 MSNP20 MSNP18 CVR0\r\n', expect: 'VER 1 MSNP18\r\n' }],
    end: 'open',
  },
  {
    name: 'negative trId (Python int)',
    steps: [{ send: 'VER -1 MSNP8 CVR0\r\n', expect: 'VER -1 MSNP8\r\n' }],
    end: 'open',
  },
  {
    name: '11-digit trId',
    steps: [{ send: 'VER 12345678901 MSNP8 CVR0\r\n', expect: 'VER 12345678901 MSNP8\r\n' }],
    end: 'open',
  },
  {
    name: 'trId echoed as written',
    steps: [{ send: 'VER 007 MSNP8 CVR0\r\n', expect: 'VER 007 MSNP8\r\n' }],
    end: 'open',
  },
  { name: 'non-numeric trId: closed without a byte', steps: [{ send: 'VER x MSNP8 CVR0\r\n' }], end: 'closed' },
  { name: 'no trId: closed without a byte', steps: [{ send: 'VER MSNP8 CVR0\r\n' }], end: 'closed' },
  {
    name: 'bare VER: no reply, the next VER is answered',
    steps: [{ send: 'VER\r\n' }, { send: 'VER 2 MSNP8 CVR0\r\n', expect: 'VER 2 MSNP8\r\n' }],
    end: 'open',
  },
  { name: 'MSNP008 is not MSNP8', steps: [{ send: 'VER 1 MSNP008 CVR0\r\n', expect: 'VER 1 0\r\n' }], end: 'closed' },
  {
    name: 'tab-separated arguments',
    steps: [{ send: 'VER\t1\tMSNP8\tCVR0\r\n', expect: 'VER 1 MSNP8\r\n' }],
    end: 'open',
  },
  { name: 'lower case accepted', steps: [{ send: 'ver 1 msnp8 cvr0\r\n', expect: 'VER 1 MSNP8\r\n' }], end: 'open' },
  { name: 'bare LF accepted', steps: [{ send: 'VER 1 MSNP8 CVR0\n', expect: 'VER 1 MSNP8\r\n' }], end: 'open' },
  {
    name: 'a line split over two writes is reassembled',
    steps: [{ send: 'VER 1 MSNP8' }, { send: ' CVR0\r\n', expect: 'VER 1 MSNP8\r\n' }],
    end: 'open',
  },
  {
    name: 'an empty line jams the reader: nothing later is answered',
    steps: [{ send: '\r\n' }, { send: 'VER 1 MSNP8 CVR0\r\n' }],
    end: 'open',
  },
  {
    name: 'invalid UTF-8: closed without a reply',
    steps: [{ send: Buffer.from('VER 1 MSNP8 \xff\xfe CVR0\r\n', 'latin1') }],
    end: 'closed',
  },
  {
    name: 'second VER: 715, then close',
    steps: [ver(8), { send: 'VER 2 MSNP8 CVR0\r\n', expect: '715 2\r\n' }],
    end: 'closed',
  },
  { name: 'unknown command: silence, still answering', steps: [{ send: 'HELLO\r\n' }, ver(8)], end: 'open' },
  { name: 'CVR before VER', steps: [{ send: CVR8(1), expect: CVR_REPLY(1) }], end: 'open' },
  { name: 'INF before VER', steps: [{ send: 'INF 1\r\n', expect: 'INF 1 MD5\r\n' }], end: 'open' },
  { name: 'USR MD5 I before VER', steps: [{ send: 'USR 3 MD5 I probe@example.com\r\n', expect: SALT }], end: 'open' },
  { name: 'CVR after MSNP8', steps: [ver(8), { send: CVR8(2), expect: CVR_REPLY(2) }], end: 'open' },
  {
    name: 'CVR with 5 arguments: no reply',
    steps: [ver(8), { send: 'CVR 2 0x0409 winnt 5.1 i386 MSNMSGR\r\n' }, { send: CVR8(3), expect: CVR_REPLY(3) }],
    end: 'open',
  },
  {
    name: 'CVR with a non-numeric trId: echoed',
    steps: [ver(8), { send: CVR8('x7'), expect: CVR_REPLY('x7') }],
    end: 'open',
  },
  {
    name: 'USR TWN I at MSNP8',
    steps: [ver(8), { send: 'USR 3 TWN I probe@example.com\r\n', expect: `USR 3 TWN S ${reply.TWN_POLICY}\r\n` }],
    end: 'open',
  },
  {
    name: 'USR TWN I at MSNP13: GCF 0 1187 first',
    steps: [
      ver(13),
      {
        send: 'USR 3 TWN I a@b.c\r\n',
        expect: `GCF 0 1187\r\n${reply.GCF_POLICIES}USR 3 TWN S ${reply.TWN_POLICY}\r\n`,
      },
    ],
    end: 'open',
  },
  {
    name: 'USR SSO I at MSNP15: GCF, then a 64-character nonce',
    steps: [
      ver(15),
      {
        send: 'USR 3 SSO I a@b.c\r\n',
        expect: new RegExp(`^${escapeRe(POLICIES)}USR 3 SSO S MBI_KEY_OLD ${NONCE}\\r\\n$`),
      },
    ],
    end: 'open',
  },
  {
    name: 'USR SSO I at MSNP21 (19-21 answered)',
    steps: [
      ver(21),
      {
        send: 'USR 3 SSO I a@b.c\r\n',
        expect: new RegExp(`^${escapeRe(POLICIES)}USR 3 SSO S MBI_KEY_OLD ${NONCE}\\r\\n$`),
      },
    ],
    end: 'open',
  },
  { name: 'INF at MSNP7', steps: [ver(7), { send: 'INF 2\r\n', expect: 'INF 2 MD5\r\n' }], end: 'open' },
  {
    name: 'USR MD5 I at MSNP7: a salt for any handle',
    steps: [ver(7), { send: 'USR 3 MD5 I probe@example.com\r\n', expect: SALT }],
    end: 'open',
  },
  { name: 'INF at MSNP8: close', steps: [ver(8), { send: 'INF 2\r\n' }], end: 'closed' },
  { name: 'TWN at MSNP15: silent close', steps: [ver(15), { send: 'USR 3 TWN I a@b.c\r\n' }], end: 'closed' },
  { name: 'SSO at MSNP14: silent close', steps: [ver(14), { send: 'USR 3 SSO I a@b.c\r\n' }], end: 'closed' },
  { name: 'MD5 at MSNP8: silent close', steps: [ver(8), { send: 'USR 3 MD5 I a@b.c\r\n' }], end: 'closed' },
  {
    name: 'handle without @: 911, close',
    steps: [ver(8), { send: 'USR 3 TWN I nobody\r\n', expect: '911 3\r\n' }],
    end: 'closed',
  },
  {
    name: 'unknown method: 911, close',
    steps: [ver(8), { send: 'USR 3 FOO I a@b.c\r\n', expect: '911 3\r\n' }],
    end: 'closed',
  },
  {
    name: 'lower-case method: 911, close',
    steps: [ver(8), { send: 'USR 3 twn I a@b.c\r\n', expect: '911 3\r\n' }],
    end: 'closed',
  },
  {
    name: 'bad stage: 911, close',
    steps: [ver(8), { send: 'USR 2 TWN X a@b.c\r\n', expect: '911 2\r\n' }],
    end: 'closed',
  },
  {
    name: 'TWN S without an earlier I: no reply',
    steps: [
      ver(8),
      { send: 'USR 3 TWN S\r\n' },
      { send: 'USR 4 TWN I a@b.c\r\n', expect: `USR 4 TWN S ${reply.TWN_POLICY}\r\n` },
    ],
    end: 'open',
  },
  {
    name: 'TWN I without a handle: no reply',
    steps: [
      ver(8),
      { send: 'USR 3 TWN I\r\n' },
      { send: 'USR 4 TWN I a@b.c\r\n', expect: `USR 4 TWN S ${reply.TWN_POLICY}\r\n` },
    ],
    end: 'open',
  },
  {
    name: 'SHA A at MSNP18: no reply',
    steps: [ver(18), { send: 'USR 3 SHA A\r\n' }, { send: CVR8(4), expect: CVR_REPLY(4) }],
    end: 'open',
  },
  { name: 'OUT: close', steps: [ver(8), { send: 'OUT\r\n' }], end: 'closed' },
  { name: 'PNG before login: close', steps: [ver(8), { send: 'PNG\r\n' }], end: 'closed' },
  { name: 'GCF below MSNP11: close', steps: [ver(10), { send: 'GCF 3 Shields.xml\r\n' }], end: 'closed' },
  {
    name: 'GCF Shields.xml at MSNP13: 151 bytes',
    steps: [ver(13), { send: 'GCF 3 Shields.xml\r\n', expect: `GCF 3 Shields.xml 151\r\n${reply.GCF_SHIELDS}` }],
    end: 'open',
  },
];

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('escargot: raw exchanges over TCP', () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator({ profile: 'escargot' });
  });
  after(() => emu.close());
  test("payload sizes are Escargot's", () => {
    assert.equal(Buffer.byteLength(reply.GCF_POLICIES), 1187);
    assert.equal(Buffer.byteLength(reply.GCF_SHIELDS), 151);
  });
  for (const row of TODAY) test(row.name, () => runExchange(emu.port, row).then(() => undefined));

  test('salt and SSO nonce are new on every connection', async () => {
    const salts: string[] = [];
    const nonces: string[] = [];
    for (let i = 0; i < 3; i++) {
      const [, md5] = await runExchange(emu.port, {
        name: 'salt',
        steps: [ver(7), { send: 'USR 3 MD5 I a@b.c\r\n', expect: SALT }],
        end: 'open',
      });
      salts.push(md5?.split(' ')[4]?.trim() ?? '');
      const [, sso] = await runExchange(emu.port, {
        name: 'nonce',
        steps: [ver(15), { send: 'USR 3 SSO I a@b.c\r\n', expect: new RegExp(`MBI_KEY_OLD ${NONCE}\\r\\n$`) }],
        end: 'open',
      });
      const nonce = /MBI_KEY_OLD (\S+)\r\n$/.exec(sso ?? '')?.[1] ?? '';
      assert.equal(Buffer.from(nonce, 'base64').length, 48);
      nonces.push(nonce);
    }
    assert.equal(new Set(salts).size, 3, `salts: ${salts.join(' ')}`);
    assert.equal(new Set(nonces).size, 3);
    // The salt is the current Unix time with a fraction.
    assert.ok(Math.abs(Number(salts[0]) - Date.now() / 1000) < 600);
  });

  test('a client that waits gets no answer after the jam, and the socket stays open', async () => {
    const wire = await openWire(emu.port);
    try {
      wire.socket.write('\r\nVER 1 MSNP8 CVR0\r\nHELLO\r\n');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(wire.received.length, 0);
      assert.equal(wire.closed, false);
    } finally {
      wire.socket.destroy();
    }
  });
});
