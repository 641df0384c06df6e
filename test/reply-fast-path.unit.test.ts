/**
 * The fast path for the common `VER` answer (fastVerReply, taken by VerReplyClassifier for a whole
 * line in one chunk) must decide exactly as the general parser: on a table of lines near and far
 * from the common form, whole and split at every byte, and on generated lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classifyLine, fastVerReply, VerReplyClassifier, type VerRequest } from '../src/codec/classify.js';
import type { Outcome } from '../src/codec/outcome.js';

const ONE: VerRequest = { trId: 1, offered: [8] };
const OFFER: VerRequest = { trId: 1, offered: Array.from({ length: 20 }, (_, i) => 21 - i) };
const REQUESTS = [ONE, OFFER];

/** Lines the fast path takes (for ONE and OFFER alike). */
const COMMON = ['VER 1 MSNP8 CVR0', 'VER 1 MSNP8', 'VER 1 MSNP8 MSNP7 CVR0', 'VER 01 MSNP8 CVR0', 'VER 1 MSNP008'];

/** Lines it must leave to the general parser, or decide exactly as it does. */
const OTHERS = [
  'VER 2 MSNP8 CVR0',
  'VER 1 MSNP9 CVR0',
  'VER 1 MSNP21 MSNP20 CVR0',
  'VER 1 msnp8 CVR0',
  'VER 1 MSNP8 cvr0',
  'VER 1  MSNP8 CVR0',
  'VER  1 MSNP8 CVR0',
  'VER 1 MSNP8 CVR0 ',
  ' VER 1 MSNP8 CVR0',
  'VER 1 CVR0',
  'VER 1 CVR0 MSNP8',
  'VER 1 0',
  'VER 1 0 MSNP8',
  'VER 1',
  'VER 1 ',
  'VER',
  'VER 1 MSNP',
  'VER 1 MSNP8CVR0',
  'VER 1 MSNP8 CVR0X',
  'VER 1 MSNP8 CVR1',
  'VER 1 MSNP1234 CVR0',
  'VER 1 MSNP8 MSNP8',
  'VER 12345678901 MSNP8',
  'VER 4294967297 MSNP8',
  'VER x MSNP8',
  'VER 1 MSNP8\tCVR0',
  'VER 1 MSNP8 CVR0\r',
  'VER 1 MSNP8 CVR0\x00',
  'VER 1 MSNP8 CVR0\xe9',
  'VERX 1 MSNP8',
  'VEr 1 MSNP8',
  'VER 0 MSNP8 CVR0',
  'VER 1 MSNP0 CVR0',
  '500 1',
  'OUT OTH',
  'CHL 0 1234',
  'USR 1 OK',
  'HTTP/1.1 200 OK',
];

/** The classifier fed `chunks` in turn: the outcome, else how the stream then ends. */
function fed(request: VerRequest, chunks: Uint8Array[]): { outcome: Outcome; pending: number; frames: number } {
  const classifier = new VerReplyClassifier(request);
  let outcome: Outcome | undefined;
  for (const chunk of chunks) {
    outcome = classifier.push(chunk);
    if (outcome) break;
  }
  const { frames, reader } = classifier.handOver();
  return { outcome: outcome ?? classifier.end('close'), pending: reader.pending.length, frames: frames.length };
}

/** The same bytes a byte at a time: never one whole line in one chunk, so never the fast path. */
function byteByByte(request: VerRequest, bytes: Buffer): ReturnType<typeof fed> {
  return fed(
    request,
    [...bytes].map((b) => Uint8Array.of(b)),
  );
}

test('fast path: taken for the common answers, and its verdict is the general parser’s', () => {
  for (const request of REQUESTS) {
    for (const line of COMMON) {
      const bytes = Buffer.from(line, 'latin1');
      const fast = fastVerReply(bytes, bytes.length, request);
      assert.ok(fast, `fast path not taken for ${JSON.stringify(line)}`);
      assert.deepEqual(fast, classifyLine(line, request), line);
      assert.equal(fast.status, 'accepted');
    }
  }
});

test('fast path: where it answers at all, it answers as the general parser', () => {
  for (const request of REQUESTS) {
    for (const line of [...COMMON, ...OTHERS]) {
      const bytes = Buffer.from(line, 'latin1');
      const fast = fastVerReply(bytes, bytes.length, request);
      if (fast) assert.deepEqual(fast, classifyLine(line, request), JSON.stringify(line));
    }
  }
});

test('classifier: one whole line in one chunk, split at every byte, or a byte at a time: the same verdict', () => {
  for (const request of REQUESTS) {
    for (const line of [...COMMON, ...OTHERS]) {
      for (const eol of ['\r\n', '\n']) {
        const bytes = Buffer.from(line + eol, 'latin1');
        const expected = byteByByte(request, bytes);
        const what = `${JSON.stringify(line + eol)} offering ${request.offered.length}`;
        assert.deepEqual(fed(request, [bytes]), expected, `whole: ${what}`);
        for (let cut = 1; cut < bytes.length; cut++) {
          const split = fed(request, [bytes.subarray(0, cut), bytes.subarray(cut)]);
          assert.deepEqual(split, expected, `split at ${cut}: ${what}`);
        }
      }
    }
  }
});

test('classifier: the fast path leaves a line behind the reply, or a partial one, to the general path', () => {
  const tails: [string, number, number][] = [
    ['USR 2 OK\r\n', 1, 0],
    ['US', 0, 2],
    ['VER 1 MSNP8 CVR0\r\n', 1, 0],
  ];
  for (const [tail, frames, pending] of tails) {
    const bytes = Buffer.from(`VER 1 MSNP8 CVR0\r\n${tail}`, 'latin1');
    const whole = fed(ONE, [bytes]);
    assert.deepEqual(whole.outcome, classifyLine('VER 1 MSNP8 CVR0', ONE));
    assert.deepEqual([whole.frames, whole.pending], [frames, pending], `handed over behind ${JSON.stringify(tail)}`);
  }
  // A line over the cap is too long, whatever its form.
  const long = Buffer.from(`VER 1 MSNP8 ${'CVR0 '.repeat(1000)}CVR0\r\n`, 'latin1');
  assert.deepEqual(fed(ONE, [long]).outcome, { status: 'unexpected', reply: null, reason: 'too-long' });
  assert.deepEqual(fed(ONE, [long]), byteByByte(ONE, long));
});

test('property: generated VER-like lines decide the same whole and a byte at a time', () => {
  const token = fc.constantFrom(
    'VER',
    '1',
    '01',
    '2',
    '0',
    'MSNP8',
    'MSNP21',
    'MSNP008',
    'MSNP1234',
    'msnp8',
    'MSNP',
    'CVR0',
    'cvr0',
    'CVR1',
    '',
    'x',
  );
  const line = fc.tuple(fc.constantFrom('VER 1', 'VER 01', 'VER', 'VER 2'), fc.array(token, { maxLength: 6 }));
  fc.assert(
    fc.property(line, fc.constantFrom(...REQUESTS), fc.constantFrom('\r\n', '\n'), ([head, rest], request, eol) => {
      const text = [head, ...rest].join(' ');
      const bytes = Buffer.from(text + eol, 'latin1');
      assert.deepEqual(fed(request, [bytes]), byteByByte(request, bytes));
      const fast = fastVerReply(bytes, text.length, request);
      if (fast) assert.deepEqual(fast, classifyLine(text, request));
    }),
    { numRuns: 500 },
  );
});
