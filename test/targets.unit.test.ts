import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseTargetLine,
  readTargets,
  parseShard,
  inShard,
  MAX_TARGET_LINE,
  type InvalidLine,
} from '../src/probe/targets.js';
import { Pacer } from '../src/probe/pacer.js';
import { fitTarget } from '../src/report/render/matrix.js';
import { Progress, formatDuration } from '../src/cli/output/progress.js';
import type { Target } from '../src/input/target.js';

describe('parseTargetLine', () => {
  const cases: [string, Target | null][] = [
    ['', null],
    ['   # a comment', null],
    ['10.0.0.1', { host: '10.0.0.1', port: 1863 }],
    ['10.0.0.1:1864  # trailing comment', { host: '10.0.0.1', port: 1864 }],
    ['msn.example', { host: 'msn.example', port: 1863 }],
    ['[2001:db8::1]:1865', { host: '2001:db8::1', port: 1865 }],
    ['2001:db8::1', { host: '2001:db8::1', port: 1863 }],
    ['msnp://msn.example:7001', { host: 'msn.example', port: 7001 }],
    ['open tcp 1863 192.0.2.7 1690000000', { host: '192.0.2.7', port: 1863 }],
    ['192.0.2.8 1866', { host: '192.0.2.8', port: 1866 }],
    ['\t192.0.2.9\r', { host: '192.0.2.9', port: 1863 }],
    ['# a comment in a CRLF list\r', null],
    ['#masscan\r', null],
    ['192.0.2.10:1864 # note\r', { host: '192.0.2.10', port: 1864 }],
  ];
  for (const [line, expected] of cases)
    test(JSON.stringify(line), () => assert.deepEqual(parseTargetLine(line), expected));
  for (const bad of ['a b c', 'host:0', 'open tcp x 1.2.3.4', 'http://x', '[::1']) {
    test(`rejects ${JSON.stringify(bad)}`, () => assert.throws(() => parseTargetLine(bad), { code: 'ERR_TARGET' }));
  }
});

async function collect(chunks: string[], onInvalid?: (i: InvalidLine) => void): Promise<Target[]> {
  const out: Target[] = [];
  async function* input(): AsyncGenerator<string> {
    yield* chunks;
  }
  for await (const t of readTargets(input(), onInvalid ? { onInvalid } : {})) out.push(t);
  return out;
}

describe('readTargets', () => {
  const text = '# list\n192.0.2.1\r\n192.0.2.2:1864\n\nnot a target here\n[::1]:7\n192.0.2.3';
  test('the same targets at every chunk boundary, invalid lines reported with their number', async () => {
    const expected = [
      { host: '192.0.2.1', port: 1863 },
      { host: '192.0.2.2', port: 1864 },
      { host: '::1', port: 7 },
      { host: '192.0.2.3', port: 1863 },
    ];
    for (let cut = 0; cut <= text.length; cut++) {
      const invalid: InvalidLine[] = [];
      assert.deepEqual(
        await collect([text.slice(0, cut), text.slice(cut)], (i) => invalid.push(i)),
        expected,
        `cut ${cut}`,
      );
      assert.deepEqual(
        invalid.map((i) => i.line),
        [5],
        `cut ${cut}`,
      );
    }
  });
  test('an over-long line is skipped without being buffered, and the next line still counts', async () => {
    const invalid: InvalidLine[] = [];
    const long = 'x'.repeat(MAX_TARGET_LINE * 50);
    const chunks = [...(long.match(/.{1,4096}/g) ?? []), '\n192.0.2.5\n'];
    assert.deepEqual(await collect(chunks, (i) => invalid.push(i)), [{ host: '192.0.2.5', port: 1863 }]);
    assert.equal(invalid.length, 1);
    assert.match(invalid[0]?.message ?? '', /longer than/);
  });
  test('a CRLF list with comments and a byte order mark, at every chunk boundary', async () => {
    const crlf =
      '\xef\xbb\xbf# servers\r\n#masscan\r\nopen tcp 1863 192.0.2.6 1690000000\r\n192.0.2.7 # note\r\n# end\r\n';
    for (let cut = 0; cut <= crlf.length; cut++) {
      const invalid: InvalidLine[] = [];
      const got = await collect([crlf.slice(0, cut), crlf.slice(cut)], (i) => invalid.push(i));
      assert.deepEqual(
        got,
        [
          { host: '192.0.2.6', port: 1863 },
          { host: '192.0.2.7', port: 1863 },
        ],
        `cut ${cut}`,
      );
      assert.deepEqual(invalid, [], `cut ${cut}`);
    }
  });
  test('a line over the limit is invalid wherever the chunks split it; an over-long comment is not', async () => {
    const long = `${'y'.repeat(MAX_TARGET_LINE + 10)}.example`;
    const comment = `# ${'z'.repeat(MAX_TARGET_LINE * 3)}`;
    const list = `192.0.2.1\n${long}\n${comment}\n192.0.2.2\n`;
    for (const size of [7, 100, 1000, 4096, list.length]) {
      const invalid: InvalidLine[] = [];
      const chunks = list.match(new RegExp(`[^]{1,${size}}`, 'g')) ?? [];
      assert.deepEqual(
        await collect(chunks, (i) => invalid.push(i)),
        [
          { host: '192.0.2.1', port: 1863 },
          { host: '192.0.2.2', port: 1863 },
        ],
        `chunks of ${size}`,
      );
      assert.deepEqual(
        invalid.map((i) => [i.line, i.message]),
        [[2, `line longer than ${MAX_TARGET_LINE} characters`]],
        `chunks of ${size}`,
      );
      assert.ok((invalid[0]?.text.length ?? 0) <= 80, 'quotes at most 80 characters');
    }
  });
  test('pulls lazily: a million-line source is not read ahead', async () => {
    let produced = 0;
    async function* endless(): AsyncGenerator<string> {
      for (let i = 0; i < 1_000_000; i++) {
        produced++;
        yield `192.0.2.${i % 250}\n`;
      }
    }
    let taken = 0;
    for await (const _ of readTargets(endless())) {
      if (++taken === 10) break;
    }
    assert.ok(produced <= 11, `read ${produced} lines for 10 targets`);
  });
});

describe('shards', () => {
  test('parseShard', () => {
    assert.deepEqual(parseShard('2/4'), { index: 2, count: 4 });
    for (const bad of ['0/4', '5/4', '1/0', 'a/b', '1', '1/2/3'])
      assert.throws(() => parseShard(bad), { code: 'ERR_OPTION' }, bad);
  });
  test('N shards partition any list exactly once, independent of order', () => {
    const targets: Target[] = Array.from({ length: 2000 }, (_, i) => ({
      host: `10.${(i >> 8) & 255}.${i & 255}.1`,
      port: 1863 + (i % 3),
    }));
    for (const count of [1, 2, 3, 7]) {
      const seen = new Map<Target, number>();
      for (let index = 1; index <= count; index++) {
        for (const t of targets) if (inShard(t, { index, count })) seen.set(t, (seen.get(t) ?? 0) + 1);
      }
      assert.equal(seen.size, targets.length);
      assert.ok([...seen.values()].every((n) => n === 1));
      const sizes = Array.from(
        { length: count },
        (_, i) => targets.filter((t) => inShard(t, { index: i + 1, count })).length,
      );
      assert.ok(Math.min(...sizes) > (targets.length / count) * 0.8, `balanced: ${sizes.join(',')}`);
    }
  });
});

describe('Pacer', () => {
  test('spaces connections at the rate, with bounded jitter', () => {
    const now = 0;
    let r = 0;
    const randoms = [0, 1, 0.5, 0.25];
    const pacer = new Pacer({
      ratePerSecond: 10,
      jitter: 0.2,
      random: () => randoms[r++ % randoms.length] ?? 0.5,
      now: () => now,
    });
    const delays = [pacer.reserve(), pacer.reserve(), pacer.reserve(), pacer.reserve()];
    assert.deepEqual(delays.map(Math.round), [0, 80, 200, 300]);
  });
  test('no rate: no delay, until a back-off that doubles and clears on relax', () => {
    let now = 1000;
    const pacer = new Pacer({ now: () => now, backoffMs: 100, maxBackoffMs: 300 });
    assert.equal(pacer.reserve(), 0);
    pacer.backoff();
    assert.equal(pacer.reserve(), 100);
    pacer.backoff();
    assert.equal(pacer.currentBackoffMs, 200);
    pacer.backoff();
    pacer.backoff();
    assert.equal(pacer.currentBackoffMs, 300, 'capped');
    pacer.relax();
    now += 10_000;
    assert.equal(pacer.reserve(), 0);
    pacer.backoff();
    assert.equal(pacer.currentBackoffMs, 100, 'starts small again');
  });
});

describe('Pacer.start', () => {
  test('a start too close to the last one is refused, and reserve() then waits out the gap', () => {
    let now = 0;
    const pacer = new Pacer({ ratePerSecond: 10, jitter: 0.2, random: () => 0.5, now: () => now });
    assert.equal(pacer.start(), true);
    now = 50;
    assert.equal(pacer.start(), false, '50 ms after a start at 10/s');
    assert.equal(
      Math.round(pacer.reserve()),
      30,
      'the next turn is at least 80 ms (100 ms - 20%) after the last start',
    );
    now = 80;
    assert.equal(pacer.start(), true);
  });
  test('the back-off is a gap between starts: starts already reserved cannot bunch up', () => {
    let now = 0;
    const pacer = new Pacer({ now: () => now, backoffMs: 500 });
    assert.equal(pacer.reserve(), 0);
    assert.equal(pacer.reserve(), 0);
    assert.equal(pacer.start(), true);
    pacer.backoff();
    assert.equal(pacer.start(), false, 'a second start right after a busy answer');
    now = 499;
    assert.equal(pacer.start(), false);
    now = 500;
    assert.equal(pacer.start(), true);
    pacer.relax();
    assert.equal(pacer.start(), true, 'no gap once a clean answer came');
  });
  test('no rate and no back-off: every start is allowed at once', () => {
    const pacer = new Pacer({ now: () => 7 });
    for (let i = 0; i < 5; i++) assert.equal(pacer.start(), true);
  });
  test('a wall clock stepped back an hour holds no connection back', (t) => {
    let wall = Date.now();
    t.mock.method(Date, 'now', () => wall);
    const pacer = new Pacer({ ratePerSecond: 10, jitter: 0 });
    assert.equal(pacer.reserve(), 0);
    assert.equal(pacer.start(), true);
    wall -= 3_600_000;
    assert.ok(pacer.reserve() <= 100, 'the next start is one interval away, not an hour');
  });
});

describe('Progress', () => {
  test('takes its line away around output for the same terminal, and puts it back', () => {
    const out: string[] = [];
    const p = new Progress((t) => out.push(t), null, { tick: false });
    assert.equal(
      p.around(() => 'nothing drawn yet'),
      'nothing drawn yet',
    );
    assert.equal(out.length, 0);
    p.done(21);
    p.setTotal(3);
    out.length = 0;
    p.around(() => out.push('ROW\n'));
    assert.equal(out[0], '\r\x1b[2K');
    assert.equal(out[1], 'ROW\n');
    assert.match(out[2] ?? '', /^1\/3 targets, 21 probes, [\d.]+ probes\/s, ETA \d\d:\d\d$/);
    p.finish();
  });
  test('draws for the first target at once, even in a process younger than the redraw interval', (t) => {
    // performance.now() counts from the process's start: a young process reads under 250 ms.
    t.mock.method(performance, 'now', () => 40);
    const out: string[] = [];
    const p = new Progress((text) => out.push(text), 2, { tick: false });
    p.done(21);
    assert.match(out[0] ?? '', /^\r\x1b\[2K1\/2 targets, 21 probes, /);
    p.finish();
  });
  test('redraws one line with rate and ETA, and clears it at the end', () => {
    const out: string[] = [];
    const p = new Progress((t) => out.push(t), 4);
    p.done(21);
    assert.match(out[0] ?? '', /^\r\x1b\[2K1\/4 targets, 21 probes, [\d.]+ probes\/s, ETA \d\d:\d\d$/);
    p.finish();
    assert.equal(out.at(-1), '\r\x1b[2K');
    assert.equal(formatDuration(3725), '1:02:05');
    assert.equal(formatDuration(65), '01:05');
  });
});

describe('fitTarget (the matrix target column)', () => {
  const cases: [string, string][] = [
    ['a.example:1863', 'a.example:1863'],
    ['averyveryverylonghostname-number-one.example.org:1863', 'averyveryver…example.org:1863'],
    ['averyveryverylonghostname-number-one.example.org:1864', 'averyveryver…example.org:1864'],
    ['[2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff]:1863', '[2001:db8:aa…:eeee:ffff]:1863'],
    ['x'.repeat(60), `${'x'.repeat(14)}…${'x'.repeat(14)}`],
  ];
  for (const [text, fitted] of cases) {
    test(`${text.slice(0, 40)} -> ${fitted}`, () => {
      assert.equal(fitTarget(text), fitted);
      assert.ok(fitTarget(text).length <= 29);
    });
  }
});
