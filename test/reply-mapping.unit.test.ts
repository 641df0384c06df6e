/**
 * The VER step (VerReplyClassifier) and the deep steps (DeepConversation) read a reply line through
 * one mapping: the same line, cut anywhere, must end both in the same outcome wherever they share a
 * meaning (not MSNP, OUT, numeric errors, notices, answers that name the wrong command or trId).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classifyChunks, readReply, type VerRequest } from '../src/codec/classify.js';
import { DeepConversation, type StepOutcome } from '../src/codec/deep.js';
import { parseMessage } from '../src/codec/message.js';
import type { Outcome } from '../src/codec/outcome.js';

const VERSION = 8;
const VER_REQUEST: VerRequest = { trId: 1, offered: [VERSION] };
/** The trId of CVR, the first deep step. */
const CVR_TRID = 2;
const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Every way to cut `bytes` in two, and the bytes one at a time. */
function cuts(bytes: Buffer): Buffer[][] {
  const out: Buffer[][] = [];
  for (let i = 0; i <= bytes.length; i++) out.push([bytes.subarray(0, i), bytes.subarray(i)]);
  out.push([...bytes].map((b) => Buffer.from([b])));
  return out;
}

/** The VER step's reading of a reply line, sent as the answer to VER 1. */
function viaVer(chunks: readonly Buffer[]): Outcome {
  return classifyChunks(VER_REQUEST, chunks, 'timeout');
}

/** The deep step's reading of the same reply line, sent as the answer to CVR 2 after an accepted VER. */
function viaDeep(chunks: readonly Buffer[]): StepOutcome {
  const c = new DeepConversation(VERSION);
  const first = c.push(latin1(`VER 1 MSNP${VERSION} CVR0\r\n`));
  assert.equal(first.type, 'send', 'the accepted VER goes on to CVR');
  let done: ReturnType<DeepConversation['end']> | undefined;
  for (const chunk of chunks) {
    const step = c.push(chunk);
    if (step.type === 'done') {
      done = step.result;
      break;
    }
  }
  done ??= c.end('timeout');
  const step = done.deep?.steps[0];
  assert.ok(step, 'the CVR step has an outcome');
  assert.equal(step.command, 'CVR');
  return step.outcome;
}

/** What both paths must agree on: the status and the fields that say why. */
function meaning(o: Outcome | StepOutcome): Record<string, unknown> {
  switch (o.status) {
    case 'unexpected':
      return { status: o.status, reason: o.reason };
    case 'closed':
      return { status: o.status, out: o.out, reply: o.reply };
    case 'error':
      return { status: o.status, code: o.code, codeName: o.codeName, busy: o.busy };
    default:
      return { status: o.status };
  }
}

/** `{t}` is the trId of the command in flight: 1 for VER, 2 for CVR. */
const SHARED_LINES: readonly string[] = [
  'OUT',
  'OUT OTH',
  'OUT SSD',
  '600 {t}',
  '911 {t}',
  '715 {t}',
  '200',
  '500',
  '999 {t} extra',
  'CHL 0 29409134351025259292',
  'NLN NLN a@b.c Friend',
  'ILN 0 NLN a@b.c',
  'SBS 0 null',
  'SYN {t} 0',
  'QRY {t}',
  'XFR {t} NS 127.0.0.1:1863 0',
  'VER 9 MSNP8 CVR0',
  'VER MSNP8',
  'HTTP/1.1 400 Bad Request',
  'SSH-2.0-OpenSSH_9.6',
  '220 mail ESMTP',
  '+OK POP3 ready',
  '* OK IMAP4rev1',
  '-ERR no',
  'hello there',
  'ver 1 msnp8',
  '',
  '   ',
  '\x16\x03\x01\x00',
  '\x15\x03\x03',
  'VER 1 MSNP8\x00',
  '\x1b[31m',
  'caf\xe9',
  '\x7f',
];

function filled(template: string, trId: number): string {
  return template.replaceAll('{t}', String(trId));
}

describe('one reply-line mapping for the VER step and the deep steps', () => {
  test('a line means the same to both paths, cut at every byte', () => {
    for (const template of SHARED_LINES) {
      const verCuts = cuts(latin1(`${filled(template, VER_REQUEST.trId)}\r\n`));
      const deepCuts = cuts(latin1(`${filled(template, CVR_TRID)}\r\n`));
      const expected = meaning(viaVer(verCuts[0] ?? []));
      for (let i = 0; i < verCuts.length; i++) {
        const label = `${JSON.stringify(template)} cut ${i}`;
        assert.deepEqual(meaning(viaVer(verCuts[i] ?? [])), expected, `VER path, ${label}`);
        assert.deepEqual(meaning(viaDeep(deepCuts[i] ?? [])), expected, `deep path, ${label}`);
      }
    }
  });

  test('the shared lines cover every kind both paths read alike', () => {
    const kinds = new Set(SHARED_LINES.map((t) => readReply(filled(t, CVR_TRID)).kind));
    assert.deepEqual([...kinds].sort(), ['command', 'end', 'error', 'unsolicited', 'ver']);
    const statuses = new Set(SHARED_LINES.map((t) => viaVer([latin1(`${filled(t, 1)}\r\n`)]).status));
    assert.deepEqual([...statuses].sort(), ['closed', 'error', 'mismatch', 'timeout', 'unexpected']);
  });

  test('any line the two paths share in meaning reads the same, in any chunks', () => {
    const byte = fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
      { weight: 1, arbitrary: fc.constantFrom(0x00, 0x09, 0x15, 0x16, 0x1b, 0x7f, 0x80, 0xe9, 0xff) },
    );
    const head = fc.constantFrom(
      '',
      'OUT',
      'OUT ',
      '600 ',
      '911 ',
      '205 ',
      'CHL 0 ',
      'NLN ',
      'QRY ',
      'VER 7 ',
      'HTTP/',
    );
    const line = fc
      .tuple(head, fc.array(byte, { maxLength: 40 }))
      .map(([h, rest]) => h + Buffer.from(rest).toString('latin1'))
      .filter((text) => !text.includes('\n') && !text.includes('\r') && sharedMeaning(text));
    const cut = fc.array(fc.integer({ min: 1, max: 8 }), { maxLength: 20 });
    fc.assert(
      fc.property(line, cut, (text, sizes) => {
        const bytes = latin1(`${text}\r\n`);
        const chunks = chunked(bytes, sizes);
        assert.deepEqual(meaning(viaDeep(chunks)), meaning(viaVer(chunks)), JSON.stringify(text));
      }),
      { numRuns: 300 },
    );
  });

  test('the VER step of a deep probe ends as the plain VER probe does, cut at every byte', () => {
    const replies = [
      'VER 1 MSNP8 CVR0',
      'VER 1 0',
      'VER 1 CVR0',
      'VER 1 MSNP9',
      'VER 2 MSNP8',
      'VER 1 junk',
      'CHL 0 123\r\nVER 1 MSNP8',
      '601 1',
      'OUT',
      'USR 1 TWN S x',
      'HTTP/1.1 200 OK',
      '\x16\x03\x01',
    ];
    for (const text of replies) {
      for (const chunks of cuts(latin1(`${text}\r\n`))) {
        const c = new DeepConversation(VERSION);
        let ver: Outcome | undefined;
        for (const chunk of chunks) {
          const step = c.push(chunk);
          if (step.type === 'done') {
            ver = step.result.ver;
            break;
          }
        }
        ver ??= c.end('timeout').ver;
        assert.deepEqual(ver, viaVer(chunks), JSON.stringify(text));
      }
    }
  });
});

/** Lines whose reading does not depend on which command is in flight (so both paths must agree). */
function sharedMeaning(text: string): boolean {
  const msg = parseMessage(text);
  if (msg.type === 'error') return msg.trId === null;
  if (msg.type === 'ver') return msg.trId !== VER_REQUEST.trId && msg.trId !== CVR_TRID;
  if (msg.type === 'command') return msg.trId === null || msg.trId === 0 || msg.command !== 'CVR';
  return true;
}

function chunked(bytes: Buffer, sizes: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const size of sizes) {
    if (at >= bytes.length) break;
    out.push(bytes.subarray(at, at + size));
    at += size;
  }
  if (at < bytes.length) out.push(bytes.subarray(at));
  return out;
}
