import { test, describe, before, after } from 'node:test';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { REMESSENGER_PASSWORD } from '../src/emulator/livepulse.js';
import { REMESSENGER_ACCOUNTS } from '../src/emulator/profiles.js';
import * as reply from '../src/emulator/replies.js';
import { range, withEmulator } from './helpers.js';
import { runExchange, type Exchange } from './raw-exchange.js';

const ACCOUNT = REMESSENGER_ACCOUNTS[0] ?? '';
const ver = (v: number): { send: string; expect: string } => ({
  send: `VER 1 MSNP${v} CVR0\r\n`,
  expect: `VER 1 MSNP${v} CVR0\r\n`,
});
const CVR_FIELDS = ['0x0409', 'winnt', '5.1', 'i386', 'MSNMSGR', '8.5.1302', 'msmsgs', 'probe@example.com', 'extra'];
const URL = 'http://remessenger.invalid/download';
const CVR_REPLY = (t: number): string => `CVR ${t} 8.5.1302 8.5.1302 1.0.0000 ${URL} ${URL}\r\n`;
const cvr = (t: number, fields: number): string => `CVR ${t} ${CVR_FIELDS.slice(0, fields).join(' ')}\r\n`;
const usr = (v: number, line: string, expect: string | RegExp, end: 'open' | 'closed', name: string): Exchange => ({
  name: `MSNP${v} ${name}`,
  steps: [ver(v), { send: `${line}\r\n`, expect }],
  end,
});

/** ReMessenger "LivePulse" as observed on loopback, one row per case of docs/PROTOCOL.md "ReMessenger". */
const ROWS: Exchange[] = [
  ...range(2, 22).map((v): Exchange => ({ name: `MSNP${v} accepted: echo plus CVR0`, steps: [ver(v)], end: 'open' })),
  ...[0, 1, 23, 25].map(
    (v): Exchange => ({
      name: `MSNP${v} rejected: VER 1 0, then close`,
      steps: [{ send: `VER 1 MSNP${v} CVR0\r\n`, expect: 'VER 1 0\r\n' }],
      end: 'closed',
    }),
  ),
  {
    name: 'the offer sorted high to low, then CVR0',
    steps: [{ send: 'VER 1 MSNP9 MSNP21 MSNP2 MSNP15 CVR0\r\n', expect: 'VER 1 MSNP21 MSNP15 MSNP9 MSNP2 CVR0\r\n' }],
    end: 'open',
  },
  {
    name: 'unsupported versions left out of the echo',
    steps: [{ send: 'VER 1 MSNP30 MSNP8 MSNP1 CVR0\r\n', expect: 'VER 1 MSNP8 CVR0\r\n' }],
    end: 'open',
  },
  {
    name: 'duplicates kept',
    steps: [{ send: 'VER 1 MSNP8 MSNP8 CVR0\r\n', expect: 'VER 1 MSNP8 MSNP8 CVR0\r\n' }],
    end: 'open',
  },
  {
    name: 'tokens after CVR0 ignored',
    steps: [{ send: 'VER 1 MSNP8 CVR0 MSNP21\r\n', expect: 'VER 1 MSNP8 CVR0\r\n' }],
    end: 'open',
  },
  {
    name: 'only what follows the fourth character is read: XXXX8 is MSNP8',
    steps: [{ send: 'VER 1 XXXX8 CVR0\r\n', expect: 'VER 1 MSNP8 CVR0\r\n' }],
    end: 'open',
  },
  { name: 'CVR0 required', steps: [{ send: 'VER 1 MSNP8\r\n', expect: 'VER 1 0\r\n' }], end: 'closed' },
  {
    name: 'CVR0 case-insensitive',
    steps: [{ send: 'VER 1 MSNP8 cvr0\r\n', expect: 'VER 1 MSNP8 CVR0\r\n' }],
    end: 'open',
  },
  {
    name: 'trId echoed as written',
    steps: [{ send: 'VER 007 MSNP8 CVR0\r\n', expect: 'VER 007 MSNP8 CVR0\r\n' }],
    end: 'open',
  },
  { name: 'non-numeric trId: silent close', steps: [{ send: 'VER x MSNP8 CVR0\r\n' }], end: 'closed' },
  { name: 'negative trId: silent close', steps: [{ send: 'VER -1 MSNP8 CVR0\r\n' }], end: 'closed' },
  { name: 'a read without CRLF (half a line) kills the connection', steps: [{ send: 'VER 1 MSNP8' }], end: 'closed' },
  {
    name: 'a read split between CR and LF kills the connection',
    steps: [{ send: 'VER 1 MSNP8 CVR0\r' }],
    end: 'closed',
  },
  { name: 'a bare LF kills the connection', steps: [{ send: 'VER 1 MSNP8 CVR0\n' }], end: 'closed' },
  {
    name: 'a bare LF inside a read kills it too',
    steps: [{ send: 'VER 1 MSNP8 CVR0\nVER 2 MSNP8 CVR0\r\n' }],
    end: 'closed',
  },
  {
    name: 'two lines in one read: both answered',
    steps: [{ send: `VER 1 MSNP8 CVR0\r\n${cvr(2, 8)}`, expect: `VER 1 MSNP8 CVR0\r\n${CVR_REPLY(2)}` }],
    end: 'open',
  },
  { name: 'unknown command: silence, still open', steps: [{ send: 'HELLO\r\n' }, ver(8)], end: 'open' },
  {
    name: 'unknown command: the rest of that read dropped',
    steps: [
      { send: 'HELLO\r\nVER 1 MSNP8 CVR0\r\n' },
      { send: 'VER 2 MSNP8 CVR0\r\n', expect: 'VER 2 MSNP8 CVR0\r\n' },
    ],
    end: 'open',
  },
  { name: 'lower-case VER: silence', steps: [{ send: 'ver 1 msnp8 cvr0\r\n' }, ver(8)], end: 'open' },
  {
    name: 'second VER answered again (no 715)',
    steps: [ver(8), { send: 'VER 2 MSNP15 CVR0\r\n', expect: 'VER 2 MSNP15 CVR0\r\n' }],
    end: 'open',
  },
  { name: 'OUT echoed, then close', steps: [ver(8), { send: 'OUT\r\n', expect: 'OUT\r\n' }], end: 'closed' },
  { name: 'INF at MSNP2: CTP', steps: [ver(2), { send: 'INF 2\r\n', expect: 'INF 2 CTP\r\n' }], end: 'open' },
  { name: 'INF at MSNP3: MD5', steps: [ver(3), { send: 'INF 2\r\n', expect: 'INF 2 MD5\r\n' }], end: 'open' },
  { name: 'INF at MSNP7: MD5', steps: [ver(7), { send: 'INF 2\r\n', expect: 'INF 2 MD5\r\n' }], end: 'open' },
  {
    name: 'INF at MSNP8: 502, stays open',
    steps: [ver(8), { send: 'INF 2\r\n', expect: '502 2\r\n' }, { send: cvr(3, 8), expect: CVR_REPLY(3) }],
    end: 'open',
  },
  { name: 'CVR with 6 arguments', steps: [ver(8), { send: cvr(2, 6), expect: CVR_REPLY(2) }], end: 'open' },
  { name: 'CVR with 8 arguments', steps: [ver(8), { send: cvr(2, 8), expect: CVR_REPLY(2) }], end: 'open' },
  {
    name: 'CVR with 5 arguments: 731, close',
    steps: [ver(8), { send: cvr(2, 5), expect: '731 2\r\n' }],
    end: 'closed',
  },
  {
    name: 'CVR with 9 arguments: 731, close',
    steps: [ver(8), { send: cvr(2, 9), expect: '731 2\r\n' }],
    end: 'closed',
  },
  usr(
    2,
    `USR 3 CTP I ${ACCOUNT} ${REMESSENGER_PASSWORD}`,
    `USR 3 OK ${ACCOUNT} ${ACCOUNT}\r\n`,
    'open',
    'CTP with a known account and its password: logged in',
  ),
  usr(2, `USR 3 CTP I ${ACCOUNT} wrong`, '911 3\r\n', 'closed', 'CTP with a wrong password: 911, close'),
  usr(3, `USR 3 MD5 I ${ACCOUNT}`, /^USR 3 MD5 S \d{10}\.\d+\r\n$/, 'open', 'MD5 with a known account: a salt'),
  usr(7, 'USR 3 MD5 I nobody@remessenger.test', '911 3\r\n', 'closed', 'MD5 with an unknown account: 911, close'),
  usr(8, `USR 3 TWN I ${ACCOUNT}`, `USR 3 TWN S ${reply.TWN_POLICY}\r\n`, 'open', 'TWN with a known account'),
  usr(14, 'USR 3 TWN I probe@example.com', '911 3\r\n', 'closed', 'TWN with an unknown account: 911, close'),
  usr(
    15,
    `USR 3 SSO I ${ACCOUNT}`,
    /^USR 3 TWN S [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\r\n$/,
    'open',
    'SSO with a known account: answered as TWN with a GUID',
  ),
  usr(20, 'USR 3 SSO I probe@example.com', '911 3\r\n', 'closed', 'SSO with an unknown account: 911, close'),
  usr(8, `USR 3 MD5 I ${ACCOUNT}`, '502 3\r\n', 'closed', 'MD5 does not fit: 502, close'),
  usr(3, `USR 3 CTP I ${ACCOUNT} ${REMESSENGER_PASSWORD}`, '502 3\r\n', 'closed', 'CTP does not fit: 502, close'),
  usr(15, `USR 3 TWN I ${ACCOUNT}`, '502 3\r\n', 'closed', 'TWN does not fit: 502, close'),
  usr(16, `USR 3 SHA A ${ACCOUNT}`, '502 3\r\n', 'closed', 'SHA below 17 does not fit: 502, close'),
  usr(17, `USR 3 SHA A ${ACCOUNT}`, '911 3\r\n', 'closed', 'SHA always fails: 911, close'),
  usr(21, `USR 3 SSO I ${ACCOUNT}`, '502 3\r\n', 'closed', 'no method at 21: 502, close'),
  usr(22, `USR 3 TWN I ${ACCOUNT}`, '502 3\r\n', 'closed', 'no method at 22: 502, close'),
  usr(8, `USR 3 FOO I ${ACCOUNT}`, '911 3\r\n', 'closed', 'unknown method: 911, close'),
  usr(8, 'USR 3 TWN I', '911 3\r\n', 'closed', 'too few arguments: 911, close'),
  {
    name: 'GCF at MSNP13: a trailing space and a character count',
    steps: [
      ver(13),
      {
        send: 'GCF 3 Shields.xml\r\n',
        expect: `GCF 3 Shields.xml ${reply.GCF_SHIELDS.length} \r\n${reply.GCF_SHIELDS}`,
      },
    ],
    end: 'open',
  },
  {
    name: 'an HTTP gateway request to the NS port: closed',
    steps: [
      {
        send:
          'POST /gateway/gateway.dll?Action=open&Server=NS&IP=127.0.0.1 HTTP/1.1\r\n' +
          'Host: 127.0.0.1\r\nContent-Length: 18\r\n\r\nVER 1 MSNP8 CVR0\r\n',
      },
    ],
    end: 'closed',
  },
];

describe('remessenger: raw exchanges over TCP', () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator({ profile: 'remessenger' });
  });
  after(() => emu.close());
  for (const row of ROWS) test(row.name, () => runExchange(emu.port, row).then(() => undefined));
});

describe('remessenger with faults', () => {
  test('a fault acts on what LivePulse takes as VER (upper case only)', async () => {
    await withEmulator({ profile: 'remessenger', faults: ['8:error:600'] }, async (emu) => {
      await runExchange(emu.port, {
        name: 'fault',
        steps: [{ send: 'VER 1 MSNP8 CVR0\r\n', expect: '600 1\r\n' }],
        end: 'closed',
      });
      await runExchange(emu.port, {
        name: 'lower case',
        steps: [{ send: 'ver 1 msnp8 cvr0\r\n' }, ver(9)],
        end: 'open',
      });
    });
  });
});
