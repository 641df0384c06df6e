/**
 * Property tests: the pure codec must hold for ANY bytes a server can send, cut into ANY
 * chunks. fast-check generates the inputs; every property compares against an independent reference
 * or an invariant, so each one can fail.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LineReader, PAYLOAD_COMMANDS, type Frame } from '../src/codec/lines.js';
import { classifyChunks, VerReplyClassifier, MAX_UNSOLICITED_LINES, type VerRequest } from '../src/codec/classify.js';
import type { Outcome } from '../src/codec/outcome.js';
import { escapeText, escapeAndClip, bytesToText } from '../src/core/escape.js';
import * as reply from '../src/emulator/replies.js';

const RUNS = 300;
const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

/** Bytes that matter to a framer or a classifier, weighted up against uniform noise. */
const interestingByte = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 255 }) },
  { weight: 2, arbitrary: fc.constantFrom(0x00, 0x0a, 0x0d, 0x15, 0x16, 0x1b, 0x20, 0x7f, 0x80, 0x9b, 0xc3, 0xff) },
);

/** Protocol-shaped fragments and hostile ones, so generated streams often look almost like MSNP. */
const fragment = fc.constantFrom(
  'VER',
  'ver',
  ' ',
  '  ',
  '1',
  '0',
  '2',
  '13',
  'MSNP8',
  'msnp13',
  'MSNP',
  'MSNP99',
  'MSNP100',
  'CVR0',
  'cvr0',
  '600',
  '911',
  '715',
  'OUT',
  'OUT SSD',
  'CHL 0 x',
  'MSG',
  'GCF',
  'GCF 0 3',
  'NOT 0 0',
  'MSG 0 2',
  'QNG 50',
  '\r\n',
  '\r\n',
  '\n',
  '\r',
  '\x00',
  '\t',
  '\x1b[2J',
  '\x1b]0;pwned\x07',
  '\x9b31m',
  '\xc3\x28',
  '\xff\xfe',
  'HTTP/1.1 400 Bad Request',
  'SSH-2.0-x',
  '\x16\x03\x01',
  '\x15\x03\x01',
  '220 mail ESMTP',
  '+OK',
  '-ERR',
  '* OK',
  '12345678901',
  '\\',
  'é',
);

const stream: fc.Arbitrary<Buffer> = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fragment.map(latin1) },
      { weight: 2, arbitrary: fc.array(interestingByte, { maxLength: 12 }).map((a) => Buffer.from(a)) },
      // Now and then a long run, to reach the line cap of a small reader.
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 200 }).map((n) => Buffer.alloc(n, 0x41)) },
    ),
    { maxLength: 24 },
  )
  .map((parts) => Buffer.concat(parts));

/** Cut points; reduced modulo the input length, duplicates make empty chunks on purpose. */
const cuts = fc.array(fc.nat({ max: 1 << 20 }), { maxLength: 16 });

function chunked(input: Uint8Array, points: readonly number[]): Buffer[] {
  const at = points.map((p) => p % (input.length + 1)).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of at) {
    out.push(Buffer.from(input.subarray(prev, p)));
    prev = p;
  }
  out.push(Buffer.from(input.subarray(prev)));
  return out;
}

function bytewise(input: Uint8Array): Buffer[] {
  return [...input].map((b) => Buffer.from([b]));
}

const request: fc.Arbitrary<VerRequest> = fc.record({
  trId: fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 3 })),
  offered: fc.array(fc.integer({ min: 1, max: 99 }), { minLength: 1, maxLength: 3 }),
});

// ---------------------------------------------------------------------------------------------
// Classifier
// ---------------------------------------------------------------------------------------------

function classifyWith(
  req: VerRequest,
  chunks: Iterable<Uint8Array>,
  how: 'close' | 'timeout',
  maxLine?: number,
): { outcome: Outcome; unsolicited: string[] } {
  const c = new VerReplyClassifier(req, maxLine);
  let outcome: Outcome | undefined;
  for (const chunk of chunks) {
    outcome = c.push(chunk);
    if (outcome) break;
  }
  return { outcome: outcome ?? c.end(how), unsolicited: [...c.unsolicited] };
}

describe('classifier properties', () => {
  test('classifyChunks never throws and always returns a known status, for any bytes in any chunking', () => {
    fc.assert(
      fc.property(
        request,
        stream,
        cuts,
        fc.constantFrom('close' as const, 'timeout' as const),
        (req, input, points, how) => {
          const outcome = classifyChunks(req, chunked(input, points), how);
          assert.ok(
            ['accepted', 'rejected', 'mismatch', 'error', 'closed', 'timeout', 'unexpected'].includes(outcome.status),
            outcome.status,
          );
          // `reply` is the exact first line: never a line break inside, never longer than the cap.
          if (outcome.reply !== null) {
            assert.doesNotMatch(outcome.reply, /\n/);
            assert.ok(outcome.reply.length <= 4096);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('the verdict does not depend on how the stream is cut (whole, random chunks, byte by byte)', () => {
    fc.assert(
      fc.property(
        request,
        stream,
        cuts,
        fc.constantFrom('close' as const, 'timeout' as const),
        (req, input, points, how) => {
          const whole = classifyWith(req, [input], how);
          assert.deepEqual(classifyWith(req, chunked(input, points), how), whole);
          assert.deepEqual(classifyWith(req, bytewise(input), how), whole);
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('same with a tiny line cap, so too-long lines and violations are common', () => {
    fc.assert(
      fc.property(request, stream, cuts, fc.integer({ min: 1, max: 40 }), (req, input, points, cap) => {
        const whole = classifyWith(req, [input], 'close', cap);
        assert.deepEqual(classifyWith(req, chunked(input, points), 'close', cap), whole);
        assert.deepEqual(classifyWith(req, bytewise(input), 'close', cap), whole);
      }),
      { numRuns: RUNS },
    );
  });

  test('never more than MAX_UNSOLICITED_LINES skipped lines kept; the one past them ends the probe', () => {
    const noise = fc.array(
      fc.constantFrom('CHL 0 x\r\n', 'QNG\r\n', 'NOT 0 0\r\n', 'GCF 0 3\r\nabc', 'SBS 0 null\r\n'),
      { maxLength: 40 },
    );
    fc.assert(
      fc.property(noise, cuts, (lines, points) => {
        const input = latin1(`${lines.join('')}VER 1 MSNP8\r\n`);
        const { outcome, unsolicited } = classifyWith({ trId: 1, offered: [8] }, chunked(input, points), 'close');
        assert.ok(unsolicited.length <= MAX_UNSOLICITED_LINES, `${unsolicited.length}`);
        if (lines.length <= MAX_UNSOLICITED_LINES) assert.equal(outcome.status, 'accepted');
        else {
          const ending = (lines[MAX_UNSOLICITED_LINES] ?? '').split('\r\n')[0];
          assert.deepEqual(outcome, { status: 'mismatch', reply: ending, reason: 'command', trId: null, versions: [] });
          assert.equal(unsolicited.length, MAX_UNSOLICITED_LINES);
        }
      }),
      { numRuns: 100 },
    );
  });
});

/** A reply from the emulator's builders and the verdict it must get, written out independently. */
type Case = { wire: Buffer; expected: Outcome; prefixable: boolean };

const verNumbers = fc.array(fc.integer({ min: 1, max: 99 }), { minLength: 1, maxLength: 4 });

const replyCase = (req: VerRequest): fc.Arbitrary<Case> => {
  const t = req.trId;
  const line = (wire: string): string => wire.slice(0, -2);
  const offered0 = req.offered[0] ?? 1;
  return fc.oneof(
    fc.tuple(verNumbers, fc.boolean()).map(([rest, cvr0]): Case => {
      const versions = [offered0, ...rest];
      const wire = reply.verAccepted(t, versions, cvr0);
      return {
        wire: latin1(wire),
        prefixable: true,
        expected: { status: 'accepted', reply: line(wire), version: offered0, versions, cvr0 },
      };
    }),
    verNumbers
      .filter((vs) => !req.offered.includes(vs[0] ?? 0))
      .map((versions): Case => {
        const wire = reply.verAccepted(t, versions);
        return {
          wire: latin1(wire),
          prefixable: true,
          expected: { status: 'mismatch', reply: line(wire), reason: 'version', trId: t, versions },
        };
      }),
    fc
      .tuple(
        fc.integer({ min: 0, max: 999 }).filter((x) => x !== t),
        verNumbers,
      )
      .map(([other, versions]): Case => {
        const wire = reply.verAccepted(other, versions);
        return {
          wire: latin1(wire),
          prefixable: true,
          expected: { status: 'mismatch', reply: line(wire), reason: 'trid', trId: other, versions },
        };
      }),
    fc.array(fc.integer({ min: 1, max: 99 }), { maxLength: 20 }).map((own): Case => {
      const wire = reply.verRejected(t, own);
      return {
        wire: latin1(wire),
        prefixable: true,
        expected: { status: 'rejected', reply: line(wire), form: 'zero', serverVersions: own },
      };
    }),
    fc.constant<Case>({
      wire: latin1(reply.verCvr0Only(t)),
      prefixable: true,
      expected: { status: 'rejected', reply: line(reply.verCvr0Only(t)), form: 'cvr0-only', serverVersions: [] },
    }),
    fc
      .tuple(fc.constantFrom(200, 201, 500, 600, 601, 715, 911, 921, 928), fc.integer({ min: 0, max: 9 }))
      .map(([code, trId]): Case => {
        const wire = reply.errorLine(code, trId);
        const busy = code === 500 || code === 600 || code === 601 || code === 921;
        const got = { status: 'error', reply: line(wire), code, trId, busy } as const;
        return { wire: latin1(wire), prefixable: true, expected: { ...got, codeName: null } };
      }),
    fc.constantFrom(undefined, 'SSD', 'OTH', 'MIG').map((why): Case => {
      const wire = reply.outLine(why);
      return {
        wire: latin1(wire),
        prefixable: true,
        expected: { status: 'closed', reply: line(wire), out: why ?? '' },
      };
    }),
    fc.constant<Case>({
      wire: latin1(reply.escapeReply(t, offered0)),
      prefixable: true,
      expected: { status: 'unexpected', reply: line(reply.escapeReply(t, offered0)), reason: 'binary' },
    }),
    fc.constant<Case>({
      wire: latin1(reply.SMTP_BANNER),
      prefixable: false,
      expected: { status: 'unexpected', reply: line(reply.SMTP_BANNER), reason: 'banner' },
    }),
    fc.constant<Case>({
      wire: latin1(reply.HTTP_BAD_REQUEST),
      prefixable: false,
      expected: { status: 'unexpected', reply: 'HTTP/1.1 400 Bad Request', reason: 'http' },
    }),
    fc.constant<Case>({
      wire: Buffer.from(reply.TLS_ALERT),
      prefixable: false,
      expected: { status: 'unexpected', reply: null, reason: 'tls' },
    }),
    fc.constant<Case>({
      wire: Buffer.from(reply.GARBAGE),
      prefixable: false,
      expected: { status: 'unexpected', reply: null, reason: 'binary' },
    }),
  );
};

describe('valid replies from the emulator builders, in random chunkings', () => {
  const prefix = fc.array(fc.constantFrom('CHL 0 abc\r\n', 'GCF 0 5\r\nab\r\nc', 'NOT 0 0\r\n', 'QNG\r\n'), {
    maxLength: MAX_UNSOLICITED_LINES,
  });
  test('each gets exactly its documented verdict, whatever the chunking, preface or trailing bytes', () => {
    fc.assert(
      fc.property(
        request.chain((req) => fc.tuple(fc.constant(req), replyCase(req))),
        prefix,
        stream,
        cuts,
        ([req, c], pre, trailer, points) => {
          const head = c.prefixable ? latin1(pre.join('')) : Buffer.alloc(0);
          const input = Buffer.concat([head, c.wire, trailer]);
          const got = classifyChunks(req, chunked(input, points), 'close');
          // codeName is a lookup table, not part of this property; compare the rest exactly.
          const normalized = got.status === 'error' ? { ...got, codeName: null } : got;
          assert.deepEqual(normalized, c.expected);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// LineReader
// ---------------------------------------------------------------------------------------------

type Framed = { frames: Frame[]; pending: Buffer };

/** An independent framer over the whole input: the specification of LineReader in a few lines. */
function referenceFrames(input: Buffer, maxLine: number, maxPayload: number, payloads: boolean): Framed {
  const frames: Frame[] = [];
  let pos = 0;
  for (;;) {
    const nl = input.indexOf(0x0a, pos);
    const length = (nl === -1 ? input.length : nl) - pos;
    if (length > maxLine) {
      frames.push({
        kind: 'violation',
        code: 'LINE_TOO_LONG',
        pending: Uint8Array.from(input.subarray(pos, pos + maxLine)),
      });
      return { frames, pending: Buffer.alloc(0) };
    }
    if (nl === -1) return { frames, pending: input.subarray(pos) };
    const end = nl > pos && input[nl - 1] === 0x0d ? nl - 1 : nl;
    const text = input.toString('latin1', pos, end);
    pos = nl + 1;
    const tokens = text.split(' ');
    const last = tokens[tokens.length - 1] ?? '';
    if (payloads && tokens.length >= 2 && PAYLOAD_COMMANDS.has(tokens[0] ?? '') && /^\d{1,10}$/.test(last)) {
      const size = Number(last);
      if (size > maxPayload) {
        frames.push({ kind: 'violation', code: 'PAYLOAD_TOO_LARGE', pending: Uint8Array.from(latin1(text)) });
        return { frames, pending: Buffer.alloc(0) };
      }
      if (input.length - pos < size) return { frames, pending: input.subarray(pos) };
      frames.push({
        kind: 'payload',
        text,
        command: tokens[0] ?? '',
        payload: Uint8Array.from(input.subarray(pos, pos + size)),
      });
      pos += size;
      continue;
    }
    frames.push({ kind: 'line', text });
  }
}

function runReader(reader: LineReader, chunks: readonly Uint8Array[], bound: number): Framed {
  const frames: Frame[] = [];
  for (const chunk of chunks) {
    frames.push(...reader.push(chunk));
    assert.ok(reader.pending.length <= bound, `pending ${reader.pending.length} > ${bound}`);
  }
  return { frames, pending: Buffer.from(reader.pending) };
}

const normalize = (f: Framed): unknown => ({
  frames: f.frames.map((fr) =>
    fr.kind === 'line'
      ? fr
      : {
          ...fr,
          [fr.kind === 'payload' ? 'payload' : 'pending']: Buffer.from(
            fr.kind === 'payload' ? fr.payload : fr.pending,
          ).toString('hex'),
        },
  ),
  pending: f.pending.toString('hex'),
});

describe('LineReader properties', () => {
  test('plain lines: frames equal a reference split, pending never exceeds maxLineBytes, never throws', () => {
    fc.assert(
      fc.property(stream, cuts, fc.integer({ min: 1, max: 64 }), (input, points, maxLine) => {
        const reader = new LineReader({ maxLineBytes: maxLine, payloads: false });
        const got = runReader(reader, chunked(input, points), maxLine);
        assert.deepEqual(normalize(got), normalize(referenceFrames(input, maxLine, 0, false)));
        for (const f of got.frames)
          if (f.kind === 'line') assert.ok(!f.text.includes('\n') && f.text.length <= maxLine);
      }),
      { numRuns: RUNS },
    );
  });

  test('with payload framing: frames equal the reference, pending bounded by the larger cap', () => {
    fc.assert(
      fc.property(
        stream,
        cuts,
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 0, max: 64 }),
        (input, points, maxLine, maxPayload) => {
          const reader = new LineReader({ maxLineBytes: maxLine, maxPayloadBytes: maxPayload });
          const got = runReader(reader, chunked(input, points), Math.max(maxLine, maxPayload));
          assert.deepEqual(normalize(got), normalize(referenceFrames(input, maxLine, maxPayload, true)));
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('default caps (4096-byte lines): a line without a newline never grows the buffer past the cap', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 12 }), (sizes) => {
        const reader = new LineReader({ payloads: false });
        let violations = 0;
        for (const size of sizes) {
          for (const f of reader.push(Buffer.alloc(size, 0x41))) if (f.kind === 'violation') violations++;
          assert.ok(reader.pending.length <= 4096, `${reader.pending.length}`);
        }
        const total = sizes.reduce((a, b) => a + b, 0);
        assert.equal(violations, total > 4096 ? 1 : 0);
        assert.equal(reader.broken, total > 4096);
      }),
      { numRuns: 100 },
    );
  });

  test('after a violation the reader stays broken and ignores everything', () => {
    fc.assert(
      fc.property(stream, (more) => {
        const reader = new LineReader({ maxLineBytes: 8 });
        const first = reader.push(latin1('0123456789'));
        assert.equal(first.at(-1)?.kind, 'violation');
        assert.deepEqual(reader.push(Buffer.concat([latin1('OK\r\n'), more])), []);
        assert.equal(reader.pending.length, 0);
        assert.ok(reader.broken);
      }),
      { numRuns: 100 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Escaping
// ---------------------------------------------------------------------------------------------

/** The inverse of escapeText, written from its documented forms. */
function unescapeText(text: string): string {
  return text.replace(
    /\\(\\|r|n|t|x([0-9a-f]{2})|u\{([0-9a-f]+)\})/g,
    (_m, what: string, hex?: string, cp?: string) => {
      if (what === '\\') return '\\';
      if (what === 'r') return '\r';
      if (what === 'n') return '\n';
      if (what === 't') return '\t';
      return String.fromCodePoint(parseInt((hex ?? cp) as string, 16));
    },
  );
}

const C0_C1_DEL = /[\x00-\x1f\x7f-\x9f]/;

describe('escapeText properties', () => {
  const anyText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.uint8Array({ maxLength: 60 }).map((b) => bytesToText(b)),
    stream.map((b) => b.toString('latin1')),
  );
  test('output is printable ASCII only: no byte in 0x00-0x1f or 0x7f-0x9f, nothing above 0x7e', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const out = escapeText(text);
        assert.doesNotMatch(out, C0_C1_DEL);
        assert.match(out, /^[\x20-\x7e]*$/);
      }),
      { numRuns: RUNS },
    );
  });
  test('escaping is lossless (unescape gives back the input) and leaves plain text alone', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        assert.equal(unescapeText(escapeText(text)), text);
        if (/^[\x20-\x5b\x5d-\x7e]*$/.test(text)) assert.equal(escapeText(text), text);
      }),
      { numRuns: RUNS },
    );
  });
  test('escapeAndClip never exceeds its width and stays printable', () => {
    fc.assert(
      fc.property(anyText, fc.integer({ min: 3, max: 80 }), (text, max) => {
        const out = escapeAndClip(text, max);
        assert.ok(out.length <= max, `${out.length} > ${max}`);
        assert.match(out, /^[\x20-\x7e]*$/);
      }),
      { numRuns: RUNS },
    );
  });
});
