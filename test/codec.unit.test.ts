import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseRange, formatVersions } from '../src/input/range.js';
import { parseTarget, formatTarget } from '../src/input/target.js';
import { escapeText } from '../src/core/escape.js';
import { LineReader, payloadHeader } from '../src/codec/lines.js';
import { parseMessage, versionsIn } from '../src/codec/message.js';
import {
  classifyChunks,
  classifyLine,
  buildVerRequest,
  couldBeMsnp,
  VerReplyClassifier,
} from '../src/codec/classify.js';
import { isMsnpProbeError } from '../src/core/errors.js';
import * as reply from '../src/emulator/replies.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('parseRange', () => {
  const ok: [string, number[]][] = [
    ['7-21', [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]],
    ['8,11-13,18', [8, 11, 12, 13, 18]],
    ['MSNP8-MSNP10', [8, 9, 10]],
    ['msnp8', [8]],
    [' 13 , 8 ', [8, 13]],
    ['5,5,4-5', [4, 5]],
    ['1-1', [1]],
    ['99', [99]],
  ];
  for (const [text, expected] of ok) test(`'${text}'`, () => assert.deepEqual(parseRange(text), expected));
  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['21-7', /reversed/],
    ['0', /outside 1\.\.99/],
    ['100', /outside 1\.\.99/],
    ['8-', /not a version/],
    ['8,,9', /empty item/],
    ['1-2-3', /not a range/],
    ['abc', /not a version/],
    ['MSNP', /not a version/],
    ['-5', /not a version/],
  ];
  for (const [text, message] of bad) {
    test(`rejects '${text}'`, () =>
      assert.throws(
        () => parseRange(text),
        (err: unknown) => isMsnpProbeError(err) && err.code === 'ERR_RANGE' && message.test(err.message),
      ));
  }
  test('formatVersions compacts runs', () => {
    assert.equal(formatVersions([8, 9, 10, 12, 14, 15]), 'MSNP8-MSNP10, MSNP12, MSNP14-MSNP15');
    assert.equal(formatVersions([]), '');
  });
});

describe('parseTarget', () => {
  const ok: [string, string, number][] = [
    ['messenger.hotmail.com', 'messenger.hotmail.com', 1863],
    ['example.com:1864', 'example.com', 1864],
    ['127.0.0.1', '127.0.0.1', 1863],
    ['127.0.0.1:80', '127.0.0.1', 80],
    ['[::1]:1863', '::1', 1863],
    ['[::1]', '::1', 1863],
    ['::1', '::1', 1863],
    ['msnp://localhost:7001', 'localhost', 7001],
    ['MSNP://localhost/', 'localhost', 1863],
  ];
  for (const [text, host, port] of ok) test(`'${text}'`, () => assert.deepEqual(parseTarget(text), { host, port }));
  for (const text of [
    '',
    'host:',
    'host:0',
    'host:65536',
    'host:abc',
    'http://x',
    '[::1',
    '[nope]:1',
    'a b',
    '-bad-.com',
    'x:1:2',
  ]) {
    test(`rejects '${text}'`, () =>
      assert.throws(
        () => parseTarget(text),
        (err: unknown) => isMsnpProbeError(err) && err.code === 'ERR_TARGET',
      ));
  }
  test('formatTarget brackets IPv6', () => {
    assert.equal(formatTarget({ host: '::1', port: 1863 }), '[::1]:1863');
    assert.equal(formatTarget({ host: 'a.example', port: 1 }), 'a.example:1');
  });
});

describe('escapeText', () => {
  const cases: [string, string][] = [
    ['VER 1 MSNP8', 'VER 1 MSNP8'],
    ['\x1b[2J', '\\x1b[2J'],
    ['a\r\nb\t', 'a\\r\\nb\\t'],
    ['\x00\x7f\x9b\xff', '\\x00\\x7f\\x9b\\xff'],
    ['back\\slash', 'back\\\\slash'],
    ['\u{1f600}', '\\u{1f600}'],
  ];
  for (const [input, expected] of cases) test(JSON.stringify(input), () => assert.equal(escapeText(input), expected));
  test('output never holds a control character', () => {
    let all = '';
    for (let i = 0; i < 256; i++) all += String.fromCharCode(i);
    assert.doesNotMatch(escapeText(all), /[\x00-\x1f\x7f-\x9f]/);
  });
});

describe('LineReader', () => {
  test('splits CRLF and bare LF lines across every chunk boundary', () => {
    const stream = 'VER 1 MSNP8 CVR0\r\nCVR 2 a b\nOUT\r\n';
    for (let cut = 0; cut <= stream.length; cut++) {
      const reader = new LineReader();
      const frames = [...reader.push(bytes(stream.slice(0, cut))), ...reader.push(bytes(stream.slice(cut)))];
      assert.deepEqual(
        frames.map((f) => (f.kind === 'line' ? f.text : f.kind)),
        ['VER 1 MSNP8 CVR0', 'CVR 2 a b', 'OUT'],
        `cut at ${cut}`,
      );
    }
  });
  test('reads payload commands by byte count, never as lines', () => {
    const payload = 'line one\r\nVER 9 MSNP99\r\n';
    const stream = `GCF 0 ${payload.length}\r\n${payload}USR 3 SSO S x\r\n`;
    for (let cut = 0; cut <= stream.length; cut++) {
      const reader = new LineReader();
      const frames = [...reader.push(bytes(stream.slice(0, cut))), ...reader.push(bytes(stream.slice(cut)))];
      assert.equal(frames.length, 2, `cut at ${cut}`);
      const [gcf, usr] = frames;
      assert.ok(
        gcf?.kind === 'payload' && Buffer.from(gcf.payload).toString('latin1') === payload && gcf.command === 'GCF',
      );
      assert.ok(usr?.kind === 'line' && usr.text === 'USR 3 SSO S x');
    }
  });
  test('caps a line before buffering more than the cap', () => {
    const reader = new LineReader({ maxLineBytes: 16 });
    assert.deepEqual(reader.push(bytes('0123456789')), []);
    const frames = reader.push(bytes('0123456789'));
    assert.equal(frames[0]?.kind, 'violation');
    assert.ok(frames[0]?.kind === 'violation' && frames[0].code === 'LINE_TOO_LONG' && frames[0].pending.length === 16);
    assert.equal(reader.broken, true);
    assert.deepEqual(reader.push(bytes('\r\n')), [], 'ignores input after a violation');
    assert.equal(reader.pending.length, 0);
  });
  test('refuses a payload larger than the cap', () => {
    const frames = new LineReader({ maxPayloadBytes: 100 }).push(bytes('MSG x y 101\r\n'));
    assert.ok(frames[0]?.kind === 'violation' && frames[0].code === 'PAYLOAD_TOO_LARGE');
  });
  test('payloadHeader', () => {
    assert.deepEqual(payloadHeader('GCF 0 1187'), { command: 'GCF', size: 1187 });
    assert.equal(payloadHeader('VER 1 8'), undefined);
    assert.equal(payloadHeader('MSG a b c'), undefined);
  });
});

describe('parseMessage', () => {
  test('VER, errors, OUT, commands and junk', () => {
    assert.deepEqual(parseMessage('VER 1 MSNP8 CVR0'), { type: 'ver', trId: 1, args: ['MSNP8', 'CVR0'] });
    assert.deepEqual(parseMessage('VER MSNP8'), { type: 'ver', trId: null, args: ['MSNP8'] });
    assert.deepEqual(parseMessage('600 1'), { type: 'error', code: 600, trId: 1, args: [] });
    assert.deepEqual(parseMessage('500'), { type: 'error', code: 500, trId: null, args: [] });
    assert.deepEqual(parseMessage('OUT SSD'), { type: 'out', reason: 'SSD', args: ['SSD'] });
    assert.deepEqual(parseMessage('CHL 0 123'), { type: 'command', command: 'CHL', trId: 0, args: ['123'] });
    assert.deepEqual(parseMessage('220 host ESMTP'), { type: 'invalid' });
    assert.deepEqual(parseMessage('HTTP/1.1 400 Bad'), { type: 'invalid' });
    assert.deepEqual(parseMessage('VER 1 \x1b[2J'), { type: 'invalid' });
    assert.deepEqual(parseMessage(''), { type: 'invalid' });
  });
  test('versionsIn', () => assert.deepEqual(versionsIn(['MSNP8', 'CVR0', 'msnp9', 'MSNPX', '0']), [8, 9]));
});

describe('classify', () => {
  const one = { trId: 1, offered: [8] };
  const line = (text: string, request = one) => classifyLine(text, request);
  const cases: [string, string, Record<string, unknown>][] = [
    ['VER 1 MSNP8 CVR0', 'accepted', { version: 8, versions: [8], cvr0: true }],
    ['VER 1 MSNP8', 'accepted', { version: 8, cvr0: false }],
    ['VER 1 0', 'rejected', { form: 'zero', serverVersions: [] }],
    ['VER 1 0 MSNP21 MSNP20 MSNP2', 'rejected', { form: 'zero', serverVersions: [21, 20, 2] }],
    ['VER 1 CVR0', 'rejected', { form: 'cvr0-only' }],
    ['VER 2 MSNP8', 'mismatch', { reason: 'trid', trId: 2 }],
    ['VER MSNP8', 'mismatch', { reason: 'trid', trId: null }],
    ['VER 1 MSNP9', 'mismatch', { reason: 'version', versions: [9] }],
    ['USR 1 TWN S x', 'mismatch', { reason: 'command', trId: 1 }],
    ['600 1', 'error', { code: 600, codeName: 'server is busy', busy: true, trId: 1 }],
    ['715 1', 'error', { code: 715, codeName: 'not expected', busy: false }],
    ['713 1', 'error', { code: 713, codeName: 'calling too rapidly', busy: true }],
    ['711 1', 'error', { code: 711, codeName: 'write is blocking', busy: false }],
    ['911 1', 'error', { code: 911, codeName: 'authentication failed', busy: false }],
    ['921 1', 'error', { code: 921, codeName: 'server too busy', busy: true }],
    ['999 1', 'error', { code: 999, codeName: null }],
    ['OUT SSD', 'closed', { out: 'SSD' }],
    ['OUT', 'closed', { out: '' }],
    ['HTTP/1.1 400 Bad Request', 'unexpected', { reason: 'http' }],
    ['220 mail.example ESMTP Postfix', 'unexpected', { reason: 'banner' }],
    ['SSH-2.0-OpenSSH_9.6', 'unexpected', { reason: 'banner' }],
    ['+OK POP3 ready', 'unexpected', { reason: 'banner' }],
    ['VER 1 MSNP8 \x1b[31m', 'unexpected', { reason: 'binary' }],
    ['VER 1 caf\xe9', 'unexpected', { reason: 'binary' }],
    ['VER 1 hello', 'unexpected', { reason: 'malformed' }],
    ['hello world', 'unexpected', { reason: 'text' }],
  ];
  for (const [text, status, details] of cases) {
    test(`${JSON.stringify(text)} -> ${status}`, () => {
      const outcome = line(text);
      assert.ok(outcome, 'decided');
      assert.equal(outcome.status, status);
      assert.equal(outcome.reply, text);
      for (const [k, v] of Object.entries(details)) assert.deepEqual((outcome as Record<string, unknown>)[k], v, k);
    });
  }
  test('unsolicited lines (trId 0 or none) are skipped, not taken as the answer', () => {
    assert.equal(line('CHL 0 12345'), undefined);
    assert.equal(line('NLN NLN a@b 1'), undefined);
    const out = classifyChunks(one, [bytes('CHL 0 12345\r\nVER 1 MSNP8\r\n')]);
    assert.equal(out.status, 'accepted');
  });
  test('the combined offer takes the first MSNP token as the chosen version', () => {
    const offer = { trId: 1, offered: [21, 20, 18, 8] };
    const out = line('VER 1 MSNP18', offer);
    assert.ok(out?.status === 'accepted' && out.version === 18);
    const echo = line('VER 1 MSNP18 MSNP8 CVR0', offer);
    assert.ok(echo?.status === 'accepted' && echo.version === 18 && echo.versions.length === 2);
  });
  test('decides at the first byte for TLS records and binary', () => {
    const c = new VerReplyClassifier(one);
    assert.equal(c.push(Uint8Array.of(0x16))?.status, 'unexpected');
    assert.equal(c.outcome?.status === 'unexpected' && c.outcome.reason, 'tls');
    assert.equal(classifyChunks(one, [Uint8Array.of(0, 1, 2)]).status, 'unexpected');
  });
  test('end of stream: closed, or unexpected when the partial line cannot be MSNP', () => {
    assert.deepEqual(classifyChunks(one, []), { status: 'closed', reply: null, out: null });
    assert.deepEqual(classifyChunks(one, [bytes('VER 1 MSN')]), { status: 'closed', reply: null, out: null });
    assert.deepEqual(classifyChunks(one, [bytes('HTTP/1.0 4')]), { status: 'unexpected', reply: null, reason: 'http' });
    assert.deepEqual(classifyChunks(one, [bytes('VER 1 MSN')], 'timeout'), {
      status: 'timeout',
      reply: null,
      phase: 'reply',
    });
    assert.deepEqual(classifyChunks(one, [bytes('hello')], 'timeout'), {
      status: 'unexpected',
      reply: null,
      reason: 'text',
    });
  });
  test('a line over the cap is unexpected (too-long)', () => {
    assert.deepEqual(classifyChunks(one, [Buffer.alloc(5000, 0x41)]), {
      status: 'unexpected',
      reply: null,
      reason: 'too-long',
    });
  });
  test('every builder reply classifies the same at every split point', () => {
    const samples = [
      reply.verAccepted(1, [8], true),
      reply.verRejected(1),
      reply.verRejected(1, [21, 20]),
      reply.verCvr0Only(1),
      reply.errorLine(600, 1),
      reply.outLine('SSD'),
      reply.HTTP_BAD_REQUEST,
      reply.SMTP_BANNER,
      reply.escapeReply(1, 8),
    ];
    for (const sample of samples) {
      const whole = classifyChunks(one, [bytes(sample)]);
      for (let cut = 1; cut < sample.length; cut++) {
        assert.deepEqual(
          classifyChunks(one, [bytes(sample.slice(0, cut)), bytes(sample.slice(cut))]),
          whole,
          `${JSON.stringify(sample)} cut at ${cut}`,
        );
      }
    }
  });
  test('couldBeMsnp', () => {
    for (const s of ['', 'V', 'VER', 'VER 1 MSNP', '60', '600 1']) assert.ok(couldBeMsnp(s), s);
    for (const s of ['HTTP', 'HTTP/1.1', 'SSH-2.0', 'ver 1', '\x00']) assert.ok(!couldBeMsnp(s), s);
  });
  test('buildVerRequest', () => {
    assert.equal(buildVerRequest({ trId: 1, offered: [8] }), 'VER 1 MSNP8 CVR0\r\n');
    assert.equal(buildVerRequest({ trId: 7, offered: [21, 20] }), 'VER 7 MSNP21 MSNP20 CVR0\r\n');
    assert.equal(buildVerRequest({ trId: 1, offered: [21, 20, 19] }), 'VER 1 MSNP21 MSNP20 MSNP19 CVR0\r\n');
    // As `map` and `join` wrote it: nothing offered leaves two spaces.
    assert.equal(buildVerRequest({ trId: 1, offered: [] }), 'VER 1  CVR0\r\n');
  });
});
