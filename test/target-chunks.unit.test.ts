/**
 * Target lists, in-process and pure: the targets (and the invalid lines, with their numbers) do not
 * depend on where reads cut the list, whatever its line ends (LF, CRLF, a bare CR) and byte order
 * mark; input that is not a list (binary, no line end) stops with an error instead of running on.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  readTargets,
  parseTargetLine,
  MAX_TARGET_LINE,
  MAX_SKIPPED_LINE,
  type InvalidLine,
} from '../src/probe/targets.js';
import type { Target } from '../src/input/target.js';

const RUNS = 300;

async function read(chunks: readonly (Buffer | string)[]): Promise<{ targets: Target[]; invalid: InvalidLine[] }> {
  const invalid: InvalidLine[] = [];
  const targets: Target[] = [];
  async function* input(): AsyncGenerator<Buffer | string> {
    yield* chunks;
  }
  for await (const t of readTargets(input(), { onInvalid: (i) => invalid.push(i) })) targets.push(t);
  return { targets, invalid };
}

function chunked(input: Buffer, points: readonly number[]): Buffer[] {
  const at = points.map((p) => p % (input.length + 1)).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of at) {
    out.push(input.subarray(prev, p));
    prev = p;
  }
  out.push(input.subarray(prev));
  return out;
}

/** Lines of every kind a list holds (hosts under .invalid or loopback: nothing here resolves them). */
const lineText = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      '127.0.0.1',
      '127.0.0.2:1864',
      '[::1]:7',
      'a.invalid 1865',
      'msnp://b.invalid:7001',
      'open tcp 1863 127.0.0.3 1690000000',
      '  127.0.0.4  # note',
      '# a comment',
      '#',
      '',
      '   ',
      '\t',
      'not a target here',
      'host:0',
      '\xc3\xa9.invalid',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: MAX_TARGET_LINE - 2, max: MAX_TARGET_LINE + 40 }).map((n) => 'x'.repeat(n)),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: MAX_TARGET_LINE, max: MAX_TARGET_LINE * 3 }).map((n) => `# ${'z'.repeat(n)}`),
  },
);
const lineEnd = fc.constantFrom('\n', '\r\n', '\r');
const list = fc.record({
  bom: fc.boolean(),
  lines: fc.array(fc.tuple(lineText, lineEnd), { maxLength: 12 }),
  lastEnds: fc.boolean(),
});
function listText(l: { bom: boolean; lines: [string, string][]; lastEnds: boolean }): string {
  const body = l.lines.map(([text, end], i) => (i === l.lines.length - 1 && !l.lastEnds ? text : text + end)).join('');
  return (l.bom ? '\xef\xbb\xbf' : '') + body;
}
/** Independent of the reader: the targets of the lines the list was built from. */
function expectedTargets(lines: [string, string][]): Target[] {
  const out: Target[] = [];
  for (const [text] of lines) {
    if (text.length > MAX_TARGET_LINE) continue;
    try {
      const t = parseTargetLine(text);
      if (t) out.push(t);
    } catch {
      // an invalid line: no target
    }
  }
  return out;
}

describe('target lists: any chunking gives the same result (property)', () => {
  test('the targets of the lines the list was built from, however the reads cut it', async () => {
    await fc.assert(
      fc.asyncProperty(list, fc.array(fc.nat({ max: 1 << 20 }), { maxLength: 12 }), async (l, cuts) => {
        const bytes = Buffer.from(listText(l), 'latin1');
        const got = await read(chunked(bytes, cuts));
        assert.deepEqual(got.targets, expectedTargets(l.lines));
      }),
      { numRuns: RUNS },
    );
  });

  test('the same invalid lines with the same numbers as one read, and as one byte per read', async () => {
    await fc.assert(
      fc.asyncProperty(list, fc.array(fc.nat({ max: 1 << 20 }), { maxLength: 12 }), async (l, cuts) => {
        const bytes = Buffer.from(listText(l), 'latin1');
        const whole = await read([bytes]);
        assert.deepEqual(await read(chunked(bytes, cuts)), whole);
        if (bytes.length < 400) assert.deepEqual(await read([...bytes].map((b) => Buffer.from([b]))), whole);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('target lists: line ends', () => {
  test('a bare CR ends a line (old Mac lists)', async () => {
    const { targets, invalid } = await read(['127.0.0.1\r127.0.0.2:1864\r# c\rbad line x\r']);
    assert.deepEqual(targets, [
      { host: '127.0.0.1', port: 1863 },
      { host: '127.0.0.2', port: 1864 },
    ]);
    assert.deepEqual(
      invalid.map((i) => i.line),
      [4],
    );
  });

  test('a CRLF cut between two reads is one line end, not two', async () => {
    const { invalid } = await read(['127.0.0.1\r', '\nbad line x\r\n']);
    assert.deepEqual(
      invalid.map((i) => i.line),
      [2],
    );
  });

  test('a byte order mark cut between reads is still dropped', async () => {
    for (const chunks of [
      ['\xef', '\xbb\xbf127.0.0.1\n'],
      ['\xef\xbb', '\xbf127.0.0.1\n'],
      ['\xef', '\xbb', '\xbf', '127.0.0.1'],
    ]) {
      const got = await read(chunks.map((c) => Buffer.from(c, 'latin1')));
      assert.deepEqual(got, { targets: [{ host: '127.0.0.1', port: 1863 }], invalid: [] }, JSON.stringify(chunks));
    }
  });
});

describe('target lists: input that is not a list stops with an error', () => {
  test('a NUL byte (/dev/zero, a binary file, UTF-16) throws ERR_TARGET, wherever it is', async () => {
    for (const chunks of [
      ['\0\0\0\0'],
      ['127.0.0.1\n', 'ab\0c\n'],
      ['# comment \0\n'],
      [`${'x'.repeat(MAX_TARGET_LINE * 2)}\0`],
    ]) {
      await assert.rejects(
        read(chunks),
        { code: 'ERR_TARGET', message: /NUL byte/ },
        JSON.stringify(chunks).slice(0, 60),
      );
    }
  });

  test('a line with no end within MAX_SKIPPED_LINE characters throws, without holding it', async () => {
    let produced = 0;
    async function* endless(): AsyncGenerator<string> {
      for (;;) {
        produced++;
        yield 'y'.repeat(64 * 1024);
      }
    }
    await assert.rejects(
      (async () => {
        for await (const _ of readTargets(endless())) assert.fail('no target expected');
      })(),
      { code: 'ERR_TARGET', message: /no line end within/ },
    );
    assert.ok(produced * 64 * 1024 <= MAX_SKIPPED_LINE + 2 * 64 * 1024, `read ${produced} chunks`);
  });

  test('a long comment under the limit is still just a comment', async () => {
    const got = await read([`# ${'z'.repeat(MAX_SKIPPED_LINE - 10)}\n127.0.0.1\n`]);
    assert.deepEqual(got, { targets: [{ host: '127.0.0.1', port: 1863 }], invalid: [] });
  });
});
