import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ESCARGOT_ERAS, escargotTraitsOn, getProfile, PROFILES } from '../src/emulator/profiles.js';
import * as reply from '../src/emulator/replies.js';
import { range, runBin, withEmulator } from './helpers.js';
import { runExchange, type Exchange } from './raw-exchange.js';

const ver = (v: number): { send: string; expect: string } => ({
  send: `VER 1 MSNP${v} CVR0\r\n`,
  expect: `VER 1 MSNP${v}\r\n`,
});
const list = (vs: number[]): string => vs.map((v) => `MSNP${v}`).join(' ');
const OWN = [...range(2, 18).reverse(), 19, 20, 21];
const TWN = `USR 3 TWN S ${reply.TWN_POLICY}\r\n`;

/** [date, row]: the row holds on that date (docs/PROTOCOL.md, "Escargot through time"); pairs straddle each change. */
const ROWS: [string, Exchange][] = [
  [
    '2017-05-30',
    {
      name: 'highest offered wins',
      steps: [{ send: 'VER 1 MSNP18 MSNP21 MSNP20 CVR0\r\n', expect: 'VER 1 MSNP21\r\n' }],
      end: 'open',
    },
  ],
  [
    '2017-12-21',
    {
      name: 'still the highest',
      steps: [{ send: 'VER 1 MSNP21 MSNP20 MSNP18 CVR0\r\n', expect: 'VER 1 MSNP21\r\n' }],
      end: 'open',
    },
  ],
  [
    '2017-12-22',
    {
      name: 'its own order',
      steps: [{ send: 'VER 1 MSNP21 MSNP20 MSNP18 CVR0\r\n', expect: 'VER 1 MSNP18\r\n' }],
      end: 'open',
    },
  ],
  [
    '2017-05-30',
    {
      name: 'rejection: 21..2 list, stays open',
      steps: [{ send: 'VER 1 MSNP22 CVR0\r\n', expect: `VER 1 0 ${list(range(2, 21).reverse())}\r\n` }, ver(8)],
      end: 'open',
    },
  ],
  [
    '2018-03-24',
    {
      name: 'rejection: own-order list, stays open',
      steps: [{ send: 'VER 1 MSNP1 CVR0\r\n', expect: `VER 1 0 ${list(OWN)}\r\n` }],
      end: 'open',
    },
  ],
  [
    '2018-03-25',
    {
      name: 'rejection: VER t 0, close',
      steps: [{ send: 'VER 1 MSNP1 CVR0\r\n', expect: 'VER 1 0\r\n' }],
      end: 'closed',
    },
  ],
  [
    '2018-12-11',
    {
      name: 'no GCF before USR S at MSNP13',
      steps: [ver(13), { send: 'USR 3 TWN I a@b.c\r\n', expect: TWN }],
      end: 'open',
    },
  ],
  [
    '2018-12-12',
    {
      name: 'GCF before USR S at MSNP13',
      steps: [ver(13), { send: 'USR 3 TWN I a@b.c\r\n', expect: reply.gcfPolicies() + TWN }],
      end: 'open',
    },
  ],
  [
    '2019-06-18',
    {
      name: 'a second VER answered again',
      steps: [ver(8), { send: 'VER 2 MSNP9 CVR0\r\n', expect: 'VER 2 MSNP9\r\n' }],
      end: 'open',
    },
  ],
  [
    '2019-06-18',
    { name: 'no trId check', steps: [{ send: 'VER x MSNP8 CVR0\r\n', expect: 'VER x MSNP8\r\n' }], end: 'open' },
  ],
  [
    '2019-06-19',
    {
      name: 'a second VER: 715, close',
      steps: [ver(8), { send: 'VER 2 MSNP9 CVR0\r\n', expect: '715 2\r\n' }],
      end: 'closed',
    },
  ],
  [
    '2019-08-09',
    {
      name: 'TWN at MSNP15 answered (no fit check)',
      steps: [ver(15), { send: 'USR 3 TWN I a@b.c\r\n', expect: reply.gcfPolicies() + TWN }],
      end: 'open',
    },
  ],
  [
    '2019-08-09',
    {
      name: 'INF at MSNP8: 502, stays open',
      steps: [ver(8), { send: 'INF 2\r\n', expect: '502 2\r\n' }, { send: 'USR 3 TWN I a@b.c\r\n', expect: TWN }],
      end: 'open',
    },
  ],
  [
    '2019-08-09',
    {
      name: 'MD5 at MSNP8: 502, stays open',
      steps: [
        ver(8),
        { send: 'USR 2 MD5 I a@b.c\r\n', expect: '502 2\r\n' },
        { send: 'USR 3 TWN I a@b.c\r\n', expect: TWN },
      ],
      end: 'open',
    },
  ],
  [
    '2019-08-10',
    { name: 'TWN at MSNP15: silent close', steps: [ver(15), { send: 'USR 3 TWN I a@b.c\r\n' }], end: 'closed' },
  ],
  ['2019-08-10', { name: 'INF at MSNP8: close', steps: [ver(8), { send: 'INF 2\r\n' }], end: 'closed' }],
  [
    '2020-04-10',
    {
      name: 'MD5 I for an unknown handle: 911',
      steps: [ver(7), { send: 'USR 3 MD5 I a@b.c\r\n', expect: '911 3\r\n' }],
      end: 'closed',
    },
  ],
  [
    '2020-04-11',
    {
      name: 'MD5 I for an unknown handle: a salt',
      steps: [ver(7), { send: 'USR 3 MD5 I a@b.c\r\n', expect: /^USR 3 MD5 S \d{10}\.\d+\r\n$/ }],
      end: 'open',
    },
  ],
];

describe('escargot@DATE: behaviour by era, over TCP', () => {
  for (const [date, row] of ROWS) {
    test(`escargot@${date}: ${row.name}`, async () => {
      await withEmulator({ profile: `escargot@${date}` }, (emu) => runExchange(emu.port, row));
    });
  }
  test("the era list is dated, in order, and its last state is today's escargot", () => {
    const dates = ESCARGOT_ERAS.map((e) => e.from);
    assert.deepEqual([...dates].sort(), dates);
    assert.deepEqual(PROFILES['escargot']?.escargot, { ...escargotTraitsOn('9999-12-31') });
    const last = ESCARGOT_ERAS[ESCARGOT_ERAS.length - 1]?.from ?? '';
    assert.deepEqual({ ...escargotTraitsOn(last), date: '' }, { ...escargotTraitsOn('9999-12-31'), date: '' });
  });
  test('escargot-2017 is escargot@2017-05-30', () => {
    const a = getProfile('escargot-2017');
    const b = getProfile('escargot@2017-05-30');
    assert.deepEqual(
      { ...a, name: '', summary: '', escargot: { ...a.escargot, date: '' } },
      { ...b, name: '', summary: '', escargot: { ...b.escargot, date: '' } },
    );
  });
  test('bad dates are usage errors (exit 2), one line on stderr', async () => {
    for (const bad of ['escargot@2017-05-29', 'escargot@2019-02-30', 'escargot@2019-1-1', 'escargot@']) {
      const r = await runBin(['demo', '--profile', bad, '--versions', '8']);
      assert.equal(r.code, 2, bad);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /--profile/);
    }
  });
  test('demo --profile escargot@2017-05-30 prefers 21; profiles lists the eras', async () => {
    const r = await runBin(['demo', '--profile', 'escargot@2017-05-30', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).targets[0].preferred, 21);
    const list = await runBin(['profiles']);
    for (const era of ESCARGOT_ERAS) assert.ok(list.stdout.includes(era.from), era.from);
    assert.match(list.stdout, /docs\/PROTOCOL\.md/);
    assert.match(list.stdout, /remessenger/);
  });
});
