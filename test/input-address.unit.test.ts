import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  AddressFilter,
  blockSize,
  excludeEntries,
  expandBlock,
  formatIPv4,
  normalizeHost,
  parseBlock,
  parseIPv4,
  parseTargetBlock,
} from '../src/input/address.js';
import { parsePort, parseTarget } from '../src/input/target.js';
import { parseTargetLine, readTargets, type InvalidLine } from '../src/probe/targets.js';

// Pure functions only: no address here is ever connected to or resolved.

describe('normalizeHost', () => {
  const cases: [string, string][] = [
    ['127.0.0.1', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['127.0.1', '127.0.0.1'],
    ['0x7F000001', '127.0.0.1'],
    ['0', '0.0.0.0'],
    ['4294967295', '255.255.255.255'],
    ['10.0.65535', '10.0.255.255'],
    ['MSN.Example', 'msn.example'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['::', '::'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::ffff:7f00:1', '::ffff:127.0.0.1'],
    ['::127.0.0.1', '::7f00:1'],
    ['fe80::0001%eth0', 'fe80::1%eth0'],
    // Not addresses: left for the host-name check, lower-cased.
    ['4294967296', '4294967296'],
    ['256.1.1.1', '256.1.1.1'],
    ['08.0.0.1', '08.0.0.1'],
    ['1.2.3.4.5', '1.2.3.4.5'],
    ['0x', '0x'],
  ];
  for (const [text, want] of cases) test(`${text} -> ${want}`, () => assert.equal(normalizeHost(text), want));
  test('property: idempotent', () => {
    const v4 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
    const spellings = v4.chain((n) =>
      fc.constantFrom(
        String(n),
        `0x${n.toString(16)}`,
        `0${n.toString(8)}`,
        formatIPv4(n),
        `${n >>> 24}.${n & 0xffffff}`,
      ),
    );
    fc.assert(
      fc.property(fc.oneof(spellings, fc.ipV6(), fc.domain()), (host) => {
        const once = normalizeHost(host);
        assert.equal(normalizeHost(once), once);
      }),
    );
  });
  test('property: every spelling of an IPv4 address is its dotted quad', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (n) => {
        const quad = formatIPv4(n);
        for (const s of [String(n), `0x${n.toString(16)}`, `0${n.toString(8)}`, `${n >>> 24}.${n & 0xffffff}`]) {
          assert.equal(normalizeHost(s), quad);
          assert.equal(parseIPv4(s), n);
        }
      }),
    );
  });
  test('targets, list lines and --host spellings all reach one host', () => {
    assert.deepEqual(parseTarget('0x7f.1:1864'), { host: '127.0.0.1', port: 1864 });
    assert.deepEqual(parseTarget('[2001:DB8::0:1]:1864'), { host: '2001:db8::1', port: 1864 });
    assert.deepEqual(parseTarget('2001:DB8::0:1'), { host: '2001:db8::1', port: 1863 });
    assert.deepEqual(parseTarget('MSN.Example'), { host: 'msn.example', port: 1863 });
    assert.deepEqual(parseTargetLine('2130706433 1865'), { host: '127.0.0.1', port: 1865 });
    assert.deepEqual(parseTargetLine('2001:DB8::1 1865'), { host: '2001:db8::1', port: 1865 });
    assert.deepEqual(parseTargetLine('open tcp 1863 0177.0.0.1 1690000000'), { host: '127.0.0.1', port: 1863 });
  });
});

describe('parseBlock and parseTargetBlock', () => {
  const port = (t: string): number => parsePort(t);
  const cases: [string, string, string, number][] = [
    // text, first, last, port
    ['192.0.2.0/28', '192.0.2.0', '192.0.2.15', 1863],
    ['192.0.2.0/28:1864', '192.0.2.0', '192.0.2.15', 1864],
    ['192.0.2.5/24', '192.0.2.0', '192.0.2.255', 1863],
    ['10.0.0.1-10.0.0.9', '10.0.0.1', '10.0.0.9', 1863],
    ['10.0.0.1-10.0.0.9:1865', '10.0.0.1', '10.0.0.9', 1865],
    ['10.0.0.7-10.0.0.7', '10.0.0.7', '10.0.0.7', 1863],
    ['0.0.0.0/0', '0.0.0.0', '255.255.255.255', 1863],
    ['198.51.100.1/32', '198.51.100.1', '198.51.100.1', 1863],
    ['2001:db8::/120', '2001:db8::', '2001:db8::ff', 1863],
    ['[2001:db8::/112]:1864', '2001:db8::', '2001:db8::ffff', 1864],
    ['[2001:db8::1-2001:db8::3]:7', '2001:db8::1', '2001:db8::3', 7],
  ];
  for (const [text, first, last, p] of cases) {
    test(text, () => {
      const tb = parseTargetBlock(text, 1863, port);
      assert.ok(tb);
      const all = expandBlock({ ...tb.block, last: tb.block.first });
      assert.equal(all.next().value, first);
      assert.equal(normalizeHost(last), [...expandBlock({ ...tb.block, first: tb.block.last })][0]);
      assert.equal(tb.port, p);
    });
  }
  const singles = [
    '192.0.2.1',
    'msn-server.example',
    'host-1.example:1864',
    '[::1]:1863',
    '::1',
    'msnp://b.invalid:7001/',
  ];
  for (const single of singles) {
    test(`${single} is not a block`, () => assert.equal(parseTargetBlock(single, 1863, port), null));
  }
  const bad: [string, RegExp][] = [
    ['192.0.2.0/33', /prefix length must be 0 to 32/],
    ['192.0.2.0/x', /prefix length/],
    ['example/24', /is not an IP address/],
    ['10.0.0.9-10.0.0.1', /ends before it starts/],
    ['10.0.0.1-::1', /mixes IPv4 and IPv6/],
    ['10.0.0.1-host', /two IP addresses/],
    ['2001:db8::/64', /larger than \/112/],
    ['2001:db8::/111', /larger than \/112/],
    ['::1-::1:0:0', /larger than \/112/],
  ];
  for (const [text, why] of bad) {
    test(`refuses ${text}`, () => assert.throws(() => parseTargetBlock(text, 1863, port), why));
  }
  test('a bad port in a block target', () => {
    assert.throws(() => parseTargetBlock('192.0.2.0/30:0', 1863, port), /outside 1\.\.65535/);
  });
});

describe('expandBlock', () => {
  test('network and broadcast addresses are included', () => {
    const block = parseBlock('192.0.2.0/30');
    assert.ok(block);
    assert.deepEqual([...expandBlock(block)], ['192.0.2.0', '192.0.2.1', '192.0.2.2', '192.0.2.3']);
  });
  test('property: the count is the block size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 20, max: 32 }), (n, bits) => {
        const block = parseBlock(`${formatIPv4(n)}/${bits}`);
        assert.ok(block);
        let count = 0n;
        for (const _ of expandBlock(block)) count++;
        assert.equal(count, blockSize(block));
        assert.equal(count, 2n ** BigInt(32 - bits));
      }),
      { numRuns: 50 },
    );
  });
  test('lazy: the first 10 of a /8 and of 0.0.0.0/0 come at once', () => {
    for (const text of ['10.0.0.0/8', '0.0.0.0/0']) {
      const block = parseBlock(text);
      assert.ok(block);
      const it = expandBlock(block);
      const first: string[] = [];
      for (const a of it) {
        first.push(a);
        if (first.length === 10) break;
      }
      assert.equal(first.length, 10);
      assert.equal(first[9], text === '10.0.0.0/8' ? '10.0.0.9' : '0.0.0.9');
    }
  });
  test('property: excluded addresses are never yielded, and all others are', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 - 511 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 40 })), { maxLength: 6 }),
        (base, holes) => {
          const block = { family: 4 as const, first: BigInt(base), last: BigInt(base + 511) };
          const filter = new AddressFilter();
          const excluded = new Set<number>();
          for (const [offset, len] of holes) {
            const lo = Math.min(base + offset, 2 ** 32 - 1);
            const hi = Math.min(lo + len, 2 ** 32 - 1);
            filter.add(`${formatIPv4(lo)}-${formatIPv4(hi)}`);
            for (let a = lo; a <= hi; a++) excluded.add(a);
          }
          const got = [...expandBlock(block, filter)];
          const want: string[] = [];
          for (let a = base; a <= base + 511; a++) if (!excluded.has(a)) want.push(formatIPv4(a));
          assert.deepEqual(got, want);
          for (const a of got) assert.equal(filter.excludes(a), false);
        },
      ),
      { numRuns: 100 },
    );
  });
  test('an excluded /9 inside a /8 is jumped over, not walked', () => {
    const block = parseBlock('10.0.0.0/8');
    const filter = new AddressFilter();
    filter.add('10.0.0.0/9');
    filter.add('10.128.0.0-10.255.255.253');
    assert.ok(block);
    assert.deepEqual([...expandBlock(block, filter)], ['10.255.255.254', '10.255.255.255']);
  });
});

describe('AddressFilter', () => {
  test('addresses in any spelling, blocks, ranges and names', () => {
    const f = new AddressFilter();
    const text = '127.1, 192.0.2.0/29\n# a comment\n10.0.0.1-10.0.0.3  MSN.Example.\n[2001:db8::1] 2001:db8:1::/48';
    for (const e of excludeEntries(text)) f.add(e);
    const yes = ['127.0.0.1', '2130706433', '192.0.2.7', '10.0.0.2', 'msn.example', 'MSN.EXAMPLE'];
    yes.push('2001:db8::1', '2001:db8:1::ffff');
    const no = ['127.0.0.2', '192.0.2.8', '10.0.0.4', 'other.example', 'sub.msn.example', '2001:db8::2'];
    for (const h of yes) assert.equal(f.excludes(h), true, h);
    for (const h of no) assert.equal(f.excludes(h), false, h);
  });
  test('bad entries', () => {
    const f = new AddressFilter();
    assert.throws(() => f.add('10.0.0.0/40'), /prefix length/);
    assert.throws(() => f.add('not a host!'), /is not an address, CIDR block, range or host name/);
    assert.throws(() => f.add(''), /empty/);
  });
});

describe('blocks in target lists (pure: read, never probed)', () => {
  async function firstOf(chunks: string[], n: number, exclude?: AddressFilter): Promise<string[]> {
    const out: string[] = [];
    async function* input(): AsyncGenerator<string> {
      yield* chunks;
    }
    for await (const t of readTargets(input(), { exclude: exclude ?? null })) {
      out.push(`${t.host}:${t.port}`);
      if (out.length === n) break;
    }
    return out;
  }
  const text = '# blocks\n192.0.2.0/30:1864\r\n198.51.100.7-198.51.100.8\n10.0.0.0/8\n';
  const want = ['192.0.2.0:1864', '192.0.2.1:1864', '192.0.2.2:1864', '192.0.2.3:1864', '198.51.100.7:1863'];
  want.push('198.51.100.8:1863', '10.0.0.0:1863', '10.0.0.1:1863');
  test('however the reads cut the list, and a /8 line is read lazily', async () => {
    for (let cut = 0; cut <= text.length; cut++) {
      assert.deepEqual(await firstOf([text.slice(0, cut), text.slice(cut)], want.length), want, `cut at ${cut}`);
    }
    assert.deepEqual(await firstOf([...text], want.length), want);
  });
  test('exclusions apply to block lines and single lines', async () => {
    const f = new AddressFilter();
    for (const e of excludeEntries('192.0.2.1-192.0.2.2, 198.51.100.7, 10.0.0.0/9')) f.add(e);
    const got = await firstOf([`${text}192.0.2.77\n192.0.2.1\n`], 100, f);
    assert.deepEqual(got.slice(0, 4), ['192.0.2.0:1864', '192.0.2.3:1864', '198.51.100.8:1863', '10.128.0.0:1863']);
  });
  test('a bad block line is an invalid line, not the end of the list', async () => {
    const invalid: InvalidLine[] = [];
    const targets: string[] = [];
    async function* input(): AsyncGenerator<string> {
      yield '2001:db8::/64\n10.0.0.9-10.0.0.1\n192.0.2.1\n';
    }
    for await (const t of readTargets(input(), { onInvalid: (i) => invalid.push(i) })) targets.push(t.host);
    assert.deepEqual(targets, ['192.0.2.1']);
    assert.deepEqual(
      invalid.map((i) => i.line),
      [1, 2],
    );
    assert.match(invalid[0]?.message ?? '', /larger than \/112/);
  });
});
