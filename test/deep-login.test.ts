import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { DeepConversation, buildCvrRequest, isValidHandle } from '../src/codec/deep.js';
import type { DeepOutcome, DeepResult } from '../src/codec/deep.js';
import type { Step } from '../src/codec/conversation.js';
import { probe, type TargetReport } from '../src/probe/probe.js';
import { summaryLine } from '../src/report/render/text.js';
import { transcriptText } from '../src/report/render/lines.js';
import type { ReportDocument } from '../src/report/render/json.js';
import { SHORT_DEADLINE_MS, runBin, checkDocument, stallProcess } from './helpers.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
const KNOWN = 'tester@livepulse.invalid';

/** Feeds whole server replies to a conversation; returns what it sent and how it ended. */
function play(version: number, replies: string[], handle?: string): { result: DeepOutcome; sent: string[] } {
  const c = new DeepConversation(version, handle);
  const sent = [c.opening()];
  for (const r of replies) {
    const step: Step<DeepOutcome> = c.push(bytes(r));
    if (step.type === 'done') return { result: step.result, sent };
    if (step.type === 'send') sent.push(step.data);
  }
  return { result: c.end('close'), sent };
}

describe('deep login verdicts (pure)', () => {
  test('an account refusal at the first USR step is account-refused, a disabled method is an error', () => {
    for (const code of [911, 917, 205]) {
      const deep = play(8, ['VER 1 MSNP8\r\n', 'CVR 2 a a a u u\r\n', `${code} 3\r\n`]).result.deep;
      const got = [deep?.session, deep?.login, deep?.code, deep?.decidedBy];
      assert.deepEqual(got, ['account-refused', 'account-refused', code, 'USR']);
    }
    const disabled = play(8, ['VER 1 MSNP8\r\n', 'CVR 2 a a a u u\r\n', '502 3\r\n']).result.deep;
    assert.deepEqual([disabled?.session, disabled?.login, disabled?.code], ['claimed-only', 'error', 502]);
    // At CVR a 911 does not answer the login: the session was not shown to go on.
    const atCvr = play(8, ['VER 1 MSNP8\r\n', '911 2\r\n']).result.deep;
    assert.deepEqual([atCvr?.session, atCvr?.login, atCvr?.decidedBy], ['claimed-only', 'error', 'CVR']);
  });

  test('INF is followed: CTP is named and not attempted, MD5 is used when named', () => {
    const ctp = play(2, ['VER 1 MSNP2\r\n', 'CVR 2 a a a u u\r\n', 'INF 3 CTP\r\n']);
    assert.deepEqual(ctp.sent, ['VER 1 MSNP2 CVR0\r\n', buildCvrRequest(2, 2), 'INF 3\r\n']);
    const deep = ctp.result.deep;
    assert.deepEqual([deep?.session, deep?.login, deep?.decidedBy], ['claimed-only', 'not-attempted', 'INF']);
    assert.deepEqual(deep?.auth, { method: 'CTP', policy: null, challenge: null });
    assert.deepEqual(deep?.infMethods, ['CTP']);
    const md5 = play(5, ['VER 1 MSNP5\r\n', 'CVR 2 a a a u u\r\n', 'INF 3 CTP MD5\r\n', 'USR 4 MD5 S salt\r\n'], KNOWN);
    assert.equal(md5.sent.at(-1), `USR 4 MD5 I ${KNOWN}\r\n`);
    assert.equal(md5.result.deep?.session, 'confirmed');
  });

  test('CVR has 8 fields at every version from MSNP8 (7 before), never a ninth', () => {
    for (let v = 2; v <= 22; v++) {
      const fields = buildCvrRequest(2, v, KNOWN).trimEnd().split(' ');
      assert.equal(fields.length, v >= 8 ? 10 : 9, `MSNP${v}: ${fields.join(' ')}`);
      if (v >= 8) assert.equal(fields.at(-1), KNOWN);
    }
  });

  test('a challenge in another method than the one asked is flagged and not confirmed', () => {
    const twn = play(16, ['VER 1 MSNP16\r\n', 'CVR 2 a a a u u\r\n', 'USR 3 TWN S 1d2c-guid\r\n'], KNOWN).result.deep;
    assert.deepEqual([twn?.session, twn?.login], ['claimed-only', 'notification']);
    const flagged = { method: 'TWN', policy: '1d2c-guid', challenge: null, methodMismatch: true, requested: 'SSO' };
    assert.deepEqual(twn?.auth, flagged);
    const ssoReply = 'USR 3 SSO S MBI_KEY_OLD bm9uY2U=\r\n';
    const sso = play(16, ['VER 1 MSNP16\r\n', 'CVR 2 a a a u u\r\n', ssoReply]).result.deep;
    assert.equal(sso?.session, 'confirmed');
    assert.equal(sso?.auth?.methodMismatch, undefined);
  });

  test('a deadline inside a payload is a timeout, not unexpected bytes', () => {
    const c = new DeepConversation(15);
    c.push(bytes('VER 1 MSNP15\r\n'));
    c.push(bytes('CVR 2 a a a u u\r\n'));
    assert.equal(c.push(bytes('GCF 0 1187\r\n<?xml version="1.0"?><Policies>')).type, 'wait');
    const deep = c.end('timeout').deep;
    assert.deepEqual([deep?.login, deep?.decidedBy, deep?.session], ['timeout', 'USR', 'claimed-only']);
  });

  test('handles: e-mail-like only, so nothing can be forged into CVR or USR', () => {
    for (const ok of ['probe@example.com', 'a.b+c@x-y.invalid', 'x@y']) assert.ok(isValidHandle(ok), ok);
    const bad = ['', 'nobody', 'a b@c.d', 'a@b\r\nOUT', 'a@@b', '@b.c', 'a@', 'a@b c', 'é@x.y', `${'a'.repeat(65)}@b`];
    for (const text of bad) assert.ok(!isValidHandle(text), JSON.stringify(text));
    assert.throws(() => new DeepConversation(8, 'a@b\r\nOUT'), { code: 'ERR_OPTION' });
  });
});

/** Per protocol version, the first USR step this scripted server takes. */
function livePulseMethod(version: number): string | null {
  if (version === 2) return 'CTP';
  if (version <= 7) return 'MD5';
  if (version <= 14) return 'TWN';
  return version <= 20 ? 'SSO' : null;
}

/**
 * A scripted server that behaves like the observed ReMessenger "LivePulse" server: MSNP2-22,
 * 731 for a CVR with more than 8 arguments, INF CTP at MSNP2, 911 for an unknown account, 502 for a
 * method that does not fit, and SSO answered as `USR t TWN S <guid>`.
 */
async function livePulse(known: string): Promise<{ port: number; close: () => Promise<void>; seen: string[] }> {
  const seen: string[] = [];
  const { port, close } = await listen((socket: Socket) => {
    let version = 0;
    let buffered = '';
    const bye = (line: string): void => {
      socket.end(line);
    };
    socket.setEncoding('latin1');
    socket.on('error', () => undefined);
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf('\r\n'); nl !== -1; nl = buffered.indexOf('\r\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 2);
        seen.push(line);
        const [cmd, t, ...args] = line.split(' ');
        if (cmd === 'VER') {
          const offered = args
            .map((a) => /^MSNP(\d+)$/.exec(a)?.[1])
            .filter((n) => n !== undefined)
            .map(Number);
          const ok = offered.filter((n) => n >= 2 && n <= 22).sort((a, b) => b - a);
          if (!args.includes('CVR0') || ok.length === 0) return bye(`VER ${t} 0\r\n`);
          version = ok[0] ?? 0;
          socket.write(`VER ${t} ${ok.map((n) => `MSNP${n}`).join(' ')} CVR0\r\n`);
        } else if (cmd === 'CVR') {
          if (args.length < 6 || args.length > 8) return bye(`731 ${t}\r\n`);
          socket.write(`CVR ${t} ${args[5]} ${args[5]} 1.0.0000 http://lp.invalid http://lp.invalid\r\n`);
        } else if (cmd === 'INF') {
          socket.write(version >= 8 ? `502 ${t}\r\n` : `INF ${t} ${version === 2 ? 'CTP' : 'MD5'}\r\n`);
        } else if (cmd === 'USR') {
          const [method, phase, handle] = args;
          if (phase !== 'I' || handle !== known) return bye(`911 ${t}\r\n`);
          if (method !== livePulseMethod(version)) return bye(`502 ${t}\r\n`);
          socket.write(method === 'MD5' ? `USR ${t} MD5 S 1796121774.81\r\n` : `USR ${t} TWN S 0f1e2d3c-guid\r\n`);
        }
      }
    });
  });
  return { port, close, seen };
}

/** A scripted server on 127.0.0.1; `close` also ends the connections still open. */
async function listen(handler: (socket: Socket) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    handler(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const close = async (): Promise<void> => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { port: address.port, close };
}

async function withLivePulse<T>(fn: (port: number, seen: string[]) => Promise<T>): Promise<T> {
  const { port, close, seen } = await livePulse(KNOWN);
  try {
    return await fn(port, seen);
  } finally {
    await close();
  }
}

const byVersion = (report: TargetReport): Map<number, DeepResult | undefined> =>
  new Map(report.probes.map((p) => [p.version, p.deep]));
const versions = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('deep probes against a LivePulse-like scripted server', () => {
  const options = { host: '127.0.0.1', versions: versions(2, 22), deep: true, timeoutMs: 20_000, transcript: true };

  test('the made-up handle: account-refused, CTP not attempted, no 9-field CVR refusal', async () => {
    await withLivePulse(async (port, seen) => {
      const report = await probe({ ...options, port });
      const deep = byVersion(report);
      assert.deepEqual(report.accepted, versions(2, 22));
      assert.deepEqual([deep.get(2)?.login, deep.get(2)?.auth?.method], ['not-attempted', 'CTP']);
      for (const v of versions(3, 22)) {
        assert.deepEqual([deep.get(v)?.session, deep.get(v)?.code], ['account-refused', 911], `MSNP${v}`);
      }
      const ctp = seen.filter((l) => l.startsWith('USR') && l.includes(' CTP '));
      assert.equal(ctp.length, 0, 'CTP (a password) never sent');
      assert.equal(report.preferred, 22);
      const summary = /prefers MSNP22 \(session: account-refused\); confirmed 0 of 21 accepted, account refused at 20/;
      assert.match(summaryLine(report), summary);
    });
  });

  test('a known handle: confirmed where a client could continue, the SSO-as-TWN answer flagged', async () => {
    await withLivePulse(async (port) => {
      const report = await probe({ ...options, port, handle: KNOWN });
      const deep = byVersion(report);
      assert.equal(deep.get(2)?.login, 'not-attempted');
      for (const v of versions(3, 14)) assert.equal(deep.get(v)?.session, 'confirmed', `MSNP${v}`);
      for (const v of versions(15, 20)) {
        const d = deep.get(v);
        const got = [d?.session, d?.auth?.methodMismatch, d?.auth?.method];
        assert.deepEqual(got, ['claimed-only', true, 'TWN'], `MSNP${v}`);
      }
      for (const v of [21, 22]) assert.deepEqual([deep.get(v)?.login, deep.get(v)?.code], ['error', 502]);
      assert.match(summaryLine(report), /prefers MSNP22 \(session: claimed-only\); confirmed 12 of 21 accepted$/);
      // Every close is in the transcript: the server's close after its refusal shows in the text.
      const p22 = report.probes.find((p) => p.version === 22);
      assert.ok(p22?.transcript?.some((e) => e.dir === 'close' && e.by === 'server'));
      assert.match(transcriptText(report), /MSNP22 \+[\d.]+ms x closed by server/);
    });
  });

  test('a payload that stalls after its header is a timeout of the USR step', async () => {
    const { port, close } = await listen((socket) => {
      socket.on('error', () => undefined);
      socket.on('data', (chunk) => {
        const line = chunk.toString('latin1');
        if (line.startsWith('VER')) socket.write('VER 1 MSNP15\r\n');
        else if (line.startsWith('CVR')) socket.write('CVR 2 a a a u u\r\n');
        else if (line.startsWith('USR')) socket.write('GCF 0 1187\r\n<?xml version="1.0"?><Policies>');
      });
    });
    try {
      // Generous: the server answers at once; only the stalled payload has to run into the deadline.
      const options = { host: '127.0.0.1', port, versions: [15], deep: true, offer: false, timeoutMs: 3_000 };
      const report = await probe(options);
      const deep = report.probes[0]?.deep;
      assert.deepEqual([deep?.login, deep?.decidedBy, deep?.session], ['timeout', 'USR', 'claimed-only']);
    } finally {
      await close();
    }
  });
});

describe('a process stalled past the deadline', () => {
  test('reads the reply that came in time, and the next step gets a whole deadline of its own', async () => {
    const deadline = SHORT_DEADLINE_MS;
    const { port, close } = await listen((socket) => {
      socket.on('error', () => undefined);
      socket.on('data', (chunk) => {
        const line = chunk.toString('latin1');
        if (line.startsWith('VER')) {
          socket.write('VER 1 MSNP15\r\n');
          // Past the deadline: the reply above is read only after the deadline has expired.
          stallProcess(deadline + 600);
        } else if (line.startsWith('CVR')) socket.write('CVR 2 a a a u u\r\n');
        else if (line.startsWith('USR')) socket.write('GCF 0 1187\r\n<?xml version="1.0"?><Policies>');
      });
    });
    try {
      const options = { host: '127.0.0.1', port, versions: [15], deep: true, offer: false, timeoutMs: deadline };
      const report = await probe(options);
      const p = report.probes[0];
      // Not a timeout of VER (read too late), nor of CVR (cut by the deadline VER had used up).
      assert.equal(p?.status, 'accepted', JSON.stringify(p));
      assert.deepEqual([p?.deep?.login, p?.deep?.decidedBy], ['timeout', 'USR']);
    } finally {
      await close();
    }
  });
});

describe('bin: --handle, --transcript', () => {
  test('--handle reaches CVR and USR; the JSON is schema-valid and names it only in a transcript', async () => {
    await withLivePulse(async (port, seen) => {
      const r = await runBin([`127.0.0.1:${port}`, '-r', '8', '--deep', '--handle', KNOWN, '--json', '--no-offer']);
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as ReportDocument;
      checkDocument(doc);
      assert.equal(doc.targets[0]?.probes[0]?.deep?.session, 'confirmed');
      assert.ok(!r.stdout.includes(KNOWN));
      assert.equal(doc.targets[0]?.probes[0]?.deep?.steps.at(-1)?.request, 'USR 3 TWN I <handle>');
      assert.ok(seen.includes(`USR 3 TWN I ${KNOWN}`));
    });
  });

  test('account-refused and close entries are schema-valid', async () => {
    await withLivePulse(async (port) => {
      const r = await runBin([`127.0.0.1:${port}`, '-r', '2,8,16', '--deep', '--transcript', '--json']);
      const doc = JSON.parse(r.stdout) as ReportDocument;
      checkDocument(doc);
      const sessions = doc.targets[0]?.probes.map((p) => p.deep?.session);
      assert.deepEqual(sessions, ['claimed-only', 'account-refused', 'account-refused']);
      assert.ok(doc.targets[0]?.probes[0]?.transcript?.some((e) => e.dir === 'close'));
    });
  });

  test('usage errors: a bad --handle (escaped), --handle without --deep, --transcript without JSON', async () => {
    const bad = await runBin(['127.0.0.1:1', '--deep', '--handle', 'a\x1b[31m b@c']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.ok(!bad.stderr.includes('\x1b'), bad.stderr);
    assert.match(bad.stderr, /--handle: .* is not an e-mail-like handle/);
    const noDeep = await runBin(['127.0.0.1:1', '--handle', KNOWN]);
    assert.equal(noDeep.code, 2);
    assert.match(noDeep.stderr, /--handle is only sent by --deep/);
    const transcript = await runBin(['127.0.0.1:1', '--transcript']);
    assert.equal(transcript.code, 2);
    assert.match(transcript.stderr, /--transcript keeps bytes in the JSON/);
  });
});
