import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import {
  DeepConversation,
  parseRedirect,
  buildCvrRequest,
  authMethodFor,
  type DeepOutcome,
} from '../src/codec/deep.js';
import type { Step } from '../src/codec/conversation.js';
import { EmulatorSession } from '../src/emulator/session.js';
import { getProfile } from '../src/emulator/profiles.js';
import { parseFault } from '../src/emulator/faults.js';
import * as reply from '../src/emulator/replies.js';
import { probe } from '../src/probe/probe.js';
import { probeFollowing } from '../src/probe/follow.js';
import type { ReportDocument } from '../src/report/render/json.js';
import { range, runBin, withEmulator, checkDocument } from './helpers.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Plays a server script against a conversation: each reply is fed cut at `cut` bytes. */
function play(version: number, replies: string[], cut: number): { result: DeepOutcome; sent: string[] } {
  const c = new DeepConversation(version);
  const sent = [c.opening()];
  for (const r of replies) {
    const parts = cut > 0 && cut < r.length ? [r.slice(0, cut), r.slice(cut)] : [r];
    let step: Step<DeepOutcome> = { type: 'wait' };
    for (const p of parts) step = c.push(bytes(p));
    if (step.type === 'done') return { result: step.result, sent };
    if (step.type === 'send') sent.push(step.data);
  }
  return { result: c.end('close'), sent };
}

describe('DeepConversation (pure)', () => {
  const gcf = reply.gcfPolicies();
  test('MSNP13 on Escargot: GCF payload before USR S is read by its byte count, at every split', () => {
    const script = [
      reply.verAccepted(1, [13]),
      reply.cvrReply(2, '8.0.0812', '8.0.0812', 'u', 'u'),
      gcf + reply.usrChallenge(3, 'TWN'),
    ];
    for (let cut = 0; cut < gcf.length + 20; cut += 7) {
      const { result, sent } = play(13, script, cut);
      assert.equal(result.ver.status, 'accepted');
      assert.equal(result.deep?.session, 'confirmed', `cut ${cut}`);
      assert.equal(result.deep?.login, 'notification');
      assert.deepEqual(result.deep?.auth, { method: 'TWN', policy: reply.TWN_POLICY, challenge: null });
      assert.deepEqual(result.deep?.payloads, [{ command: 'GCF', size: Buffer.byteLength(reply.GCF_POLICIES) }]);
      assert.deepEqual(sent, ['VER 1 MSNP13 CVR0\r\n', buildCvrRequest(2, 13), 'USR 3 TWN I probe@example.com\r\n']);
    }
  });
  test('MSNP7: CVR, INF, then USR MD5; MSNP15+: SSO with policy and nonce', () => {
    const seven = play(
      7,
      [
        reply.verAccepted(1, [7]),
        reply.cvrReply(2, 'a', 'b', 'u', 'v'),
        reply.infReply(3),
        reply.usrChallenge(4, 'MD5'),
      ],
      0,
    );
    assert.deepEqual(seven.sent.slice(2), ['INF 3\r\n', 'USR 4 MD5 I probe@example.com\r\n']);
    assert.deepEqual(seven.result.deep?.infMethods, ['MD5']);
    assert.deepEqual(seven.result.deep?.cvr, { recommended: 'a', minimum: 'b', downloadUrl: 'u', infoUrl: 'v' });
    assert.deepEqual(seven.result.deep?.auth, { method: 'MD5', policy: null, challenge: reply.MD5_SALT });
    const sso = play(
      18,
      [reply.verAccepted(1, [18]), reply.cvrReply(2, 'a', 'a', 'u', 'u'), reply.usrChallenge(3, 'SSO')],
      0,
    );
    assert.deepEqual(sso.result.deep?.auth, { method: 'SSO', policy: 'MBI_KEY_OLD', challenge: reply.SSO_NONCE });
  });
  test('claimed-only when the server closes, errs or stalls after VER', () => {
    const closed = play(19, [reply.verAccepted(1, [19])], 0).result.deep;
    assert.deepEqual([closed?.session, closed?.login, closed?.decidedBy], ['claimed-only', 'closed', 'CVR']);
    const err = play(8, [reply.verAccepted(1, [8]), reply.cvrReply(2, 'a', 'a', 'u', 'u'), reply.errorLine(502, 3)], 0)
      .result.deep;
    assert.deepEqual([err?.session, err?.login, err?.code, err?.decidedBy], ['claimed-only', 'error', 502, 'USR']);
    const c = new DeepConversation(8);
    c.push(bytes(reply.verAccepted(1, [8])));
    const timeout = c.end('timeout').deep;
    assert.deepEqual([timeout?.login, timeout?.decidedBy], ['timeout', 'CVR']);
  });
  test('a rejected VER ends the conversation with no follow-up', () => {
    const { result, sent } = play(22, [reply.verRejected(1)], 0);
    assert.equal(result.ver.status, 'rejected');
    assert.equal(result.deep, null);
    assert.equal(sent.length, 1);
  });
  test('parseRedirect: every XFR layout', () => {
    const cases: [string[], Record<string, unknown>][] = [
      [['10.0.0.1:1863'], { format: 'msnp2', host: '10.0.0.1', port: 1863 }],
      [['10.0.0.1:1863', '0'], { format: 'msnp3' }],
      [['10.0.0.1:1863', '0', '192.0.2.1:4000'], { format: 'msnp7', clientAddress: '192.0.2.1:4000' }],
      [['10.0.0.1:1863', 'U', 'D'], { format: 'msnp13', gateway: false }],
      [['10.0.0.1:1863', 'U', 'D', 'aG9w'], { format: 'msnp21', hop: 'aG9w' }],
      [['10.0.0.1:1863', 'G', 'D'], { format: 'msnp13', gateway: true }],
      [['0', 'U', 'D'], { host: null, port: null, address: '0' }],
      [['[2001:db8::1]:1863'], { host: '2001:db8::1', port: 1863 }],
      [['nonsense'], { host: null, port: null, format: 'msnp2' }],
    ];
    for (const [args, expected] of cases) {
      const r = parseRedirect(args);
      for (const [k, v] of Object.entries(expected))
        assert.deepEqual((r as unknown as Record<string, unknown>)[k], v, `${args.join(' ')}: ${k}`);
    }
    assert.equal(parseRedirect([]), undefined);
  });
  test('the emulator XFR builder and the parser agree for every version', () => {
    for (const v of range(2, 21)) {
      const line = reply.xfrReply(3, v, '127.0.0.1:7000', '127.0.0.1:5000').trim();
      const r = parseRedirect(line.split(' ').slice(3));
      const expected = v === 2 ? 'msnp2' : v <= 6 ? 'msnp3' : v <= 12 ? 'msnp7' : v <= 20 ? 'msnp13' : 'msnp21';
      assert.equal(r?.format, expected, `MSNP${v}`);
      assert.equal(r?.port, 7000);
    }
  });
  test('auth method by version', () => {
    assert.deepEqual([2, 7, 8, 14, 15, 21].map(authMethodFor), ['MD5', 'MD5', 'TWN', 'TWN', 'SSO', 'SSO']);
  });
});

describe('EmulatorSession after VER', () => {
  const session = (profile: string, version: number, faults: string[] = []) => {
    const s = new EmulatorSession(getProfile(profile), faults.map(parseFault), {
      role: 'dispatch',
      notificationAddress: '127.0.0.1:7000',
      clientAddress: '127.0.0.1:5000',
    });
    s.onLine(`VER 1 MSNP${version} CVR0`);
    return s;
  };
  const text = (actions: ReturnType<EmulatorSession['onLine']>): string =>
    actions.map((a) => (a.type === 'send' ? a.data.toString('latin1') : `<${a.type}>`)).join('');
  test('Escargot: auth gates, 911 for a handle without @, GCF from MSNP13', () => {
    assert.equal(text(session('escargot', 15).onLine('USR 2 TWN I a@b')), '<close>');
    assert.equal(text(session('escargot', 8).onLine('USR 2 SSO I a@b')), '<close>');
    assert.equal(text(session('escargot', 8).onLine('USR 2 MD5 I a@b')), '<close>');
    assert.equal(text(session('escargot', 8).onLine('USR 2 TWN I nobody')), `${reply.errorLine(911, 2)}<close>`);
    assert.equal(text(session('escargot', 12).onLine('USR 2 TWN I a@b')), reply.usrChallenge(2, 'TWN'));
    assert.equal(
      text(session('escargot', 13).onLine('USR 2 TWN I a@b')),
      reply.gcfPolicies() + reply.usrChallenge(2, 'TWN'),
    );
    assert.equal(text(session('escargot', 8).onLine('INF 2')), '<close>');
    assert.equal(text(session('escargot', 7).onLine('INF 2')), reply.infReply(2));
    assert.match(
      text(session('escargot', 8).onLine('CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 8.5.1302 msmsgs a@b')),
      /^CVR 2 8\.5\.1302 8\.5\.1302 8\.5\.1302 https:\/\/escargot\.log1p\.xyz/,
    );
  });
  test('Microsoft dispatch: XFR in the version layout, then close', () => {
    assert.equal(
      text(session('msn-2007', 8).onLine('USR 3 TWN I a@b')),
      `${reply.xfrReply(3, 8, '127.0.0.1:7000', '127.0.0.1:5000')}<close>`,
    );
    assert.equal(text(session('msn-2002', 2).onLine('USR 3 MD5 I a@b')), `XFR 3 NS 127.0.0.1:7000\r\n<close>`);
  });
  test('claim-only: VER accepted, the next command closes', () => {
    const s = session('escargot', 20, ['20:claim-only']);
    assert.equal(text(s.onLine('CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 15.4 msmsgs a@b')), '<close>');
  });
});

describe('deep probes end to end', () => {
  test('escargot: every version confirmed (19-21 too: the login path only gates by auth method)', async () => {
    await withEmulator({ profile: 'escargot' }, async (emu) => {
      const report = await probe({ host: emu.host, port: emu.port, deep: true, timeoutMs: 30_000 });
      for (const p of report.probes) {
        assert.equal(p.deep?.session, 'confirmed', `MSNP${p.version}`);
        assert.equal(p.deep?.login, 'notification');
        assert.equal(p.deep?.auth?.method, authMethodFor(p.version));
        assert.equal(p.deep?.payloads.length, p.version >= 13 ? 1 : 0, `GCF for MSNP${p.version}`);
      }
      assert.deepEqual(report.redirects, []);
    });
  });
  test('claim-only fault: accepted but claimed-only', async () => {
    await withEmulator({ profile: 'escargot', faults: ['19-21:claim-only'] }, async (emu) => {
      const report = await probe({ host: emu.host, port: emu.port, versions: [18, 19, 20, 21], deep: true });
      assert.deepEqual(report.accepted, [18, 19, 20, 21]);
      assert.deepEqual(
        report.probes.map((p) => p.deep?.session),
        ['confirmed', 'claimed-only', 'claimed-only', 'claimed-only'],
      );
    });
  });
  test('Microsoft dispatch -> follow -> notification, for every XFR layout', async () => {
    const cases: [string, number[] | undefined, number[], string[]][] = [
      ['msn-2002', undefined, [2, 3, 7], ['msnp2', 'msnp3', 'msnp7']],
      ['msn-2010', undefined, [8, 12, 13, 18], ['msnp7', 'msnp13']],
      ['msn-2010', [20, 21], [20, 21], ['msnp13', 'msnp21']],
    ];
    for (const [profile, versions, probeVersions, formats] of cases) {
      await withEmulator({ profile, ...(versions ? { versions } : {}) }, async (emu) => {
        const reports = await probeFollowing({ host: emu.host, port: emu.port, versions: probeVersions, offer: false });
        assert.equal(reports.length, 2, profile);
        const [dispatch, ns] = reports;
        assert.ok(dispatch && ns && emu.notification);
        assert.ok(dispatch.probes.every((p) => p.deep?.login === 'dispatch' && p.deep.session === 'confirmed'));
        assert.deepEqual(
          dispatch.redirects?.map((r) => [r.to, r.followed, r.formats]),
          [[`127.0.0.1:${emu.notification.port}`, true, formats]],
        );
        assert.deepEqual(ns.via, { host: emu.host, port: emu.port });
        assert.equal(ns.port, emu.notification.port);
        assert.ok(
          ns.probes.every((p) => p.deep?.login === 'notification'),
          profile,
        );
        assert.deepEqual(ns.redirects, []);
      });
    }
  });
  test('redirect loops and redirects to the same server are detected and not followed', async () => {
    const servers: Server[] = [];
    const ports: number[] = [];
    // Server i answers every USR with an XFR to `target(i)`.
    const start = async (target: (i: number) => string): Promise<void> => {
      for (let i = 0; i < 2; i++) {
        const index = i;
        const server = createServer((socket) => {
          socket.on('error', () => undefined);
          socket.on('data', (chunk) => {
            for (const line of chunk.toString('latin1').split('\r\n')) {
              const [cmd, trId, ...rest] = line.split(' ');
              if (cmd === 'VER') socket.write(`VER ${trId} ${rest[0]}\r\n`);
              if (cmd === 'CVR') socket.write(`CVR ${trId} 1 1 1 u u\r\n`);
              if (cmd === 'USR') socket.end(`XFR ${trId} NS ${target(index)} U D\r\n`);
            }
          });
        });
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        servers.push(server);
        ports.push((server.address() as { port: number }).port);
      }
    };
    try {
      await start((i) => `127.0.0.1:${ports[1 - i]}`);
      const loop = await probeFollowing({ host: '127.0.0.1', port: ports[0] ?? 0, versions: [13], offer: false });
      assert.deepEqual(
        loop.map((r) => r.port),
        [ports[0], ports[1]],
      );
      assert.deepEqual(
        loop[1]?.redirects?.map((r) => [r.followed, r.reason]),
        [[false, 'loop']],
      );
      for (const s of servers.splice(0)) s.close();
      ports.splice(0);
      await start((i) => `127.0.0.1:${ports[i]}`);
      const self = await probeFollowing({ host: '127.0.0.1', port: ports[0] ?? 0, versions: [13], offer: false });
      assert.equal(self.length, 1);
      assert.deepEqual(
        self[0]?.redirects?.map((r) => [r.followed, r.reason]),
        [[false, 'same-server']],
      );
    } finally {
      for (const s of servers) s.close();
    }
  });
});

describe('bin: --deep, --follow, --transcript, --verbose, --transport http', () => {
  test('--follow: both servers in the JSON, linked, schema-valid; the table shows the deep columns', async () => {
    await withEmulator({ profile: 'msn-2014' }, async (emu) => {
      const target = `${emu.host}:${emu.port}`;
      const r = await runBin([target, '-r', '11-13', '--follow', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as ReportDocument;
      checkDocument(doc);
      assert.equal(doc.targets.length, 2);
      assert.deepEqual(doc.targets[1]?.via, { host: emu.host, port: emu.port });
      assert.deepEqual(
        doc.targets[1]?.probes.map((p) => p.deep?.login ?? p.status),
        ['notification', 'notification', 'rejected'],
      );
      const table = await runBin([target, '-r', '11-13', '--follow']);
      assert.match(table.stdout, /Session.*Login/);
      assert.match(table.stdout, /MSNP11 .*confirmed .*XFR -> 127\.0\.0\.1:\d+ \(msnp7\)/);
      assert.match(table.stdout, /redirects MSNP11-MSNP12 to 127\.0\.0\.1:\d+ \(msnp7; followed\)/);
      assert.match(table.stdout, /<- redirected by /);
      assert.match(table.stdout, /MSNP12 .*confirmed .*TWN challenge/);
    });
  });
  test('--transcript keeps exact bytes in the JSON; --verbose prints them escaped on stderr', async () => {
    await withEmulator({ profile: 'escargot', faults: ['9:escape'] }, async (emu) => {
      const target = `${emu.host}:${emu.port}`;
      const r = await runBin([target, '-r', '8-9', '--deep', '--transcript', '--json', '--no-offer']);
      const doc = JSON.parse(r.stdout) as ReportDocument;
      checkDocument(doc);
      const [p8, p9] = doc.targets[0]?.probes ?? [];
      // The probe closes after the challenge; the server's close may follow within the linger.
      const close = p8?.transcript?.find((e) => e.dir === 'close');
      assert.deepEqual([close?.data, close?.by], ['', 'client']);
      assert.deepEqual(
        p8?.transcript?.filter((e) => e.dir !== 'close').map((e) => [e.dir, e.data]),
        [
          ['send', 'VER 1 MSNP8 CVR0\r\n'],
          ['recv', 'VER 1 MSNP8\r\n'],
          ['send', buildCvrRequest(2, 8)],
          ['recv', 'CVR 2 5.0.0540 5.0.0540 5.0.0540 https://escargot.log1p.xyz https://escargot.log1p.xyz\r\n'],
          ['send', 'USR 3 TWN I probe@example.com\r\n'],
          ['recv', reply.usrChallenge(3, 'TWN')],
        ],
      );
      assert.equal(p9?.transcript?.[1]?.data, reply.escapeReply(1, 9));
      const v = await runBin([target, '-r', '9', '--verbose', '--no-offer']);
      assert.match(v.stderr, /MSNP9 \+[\d.]+ms < VER 1 MSNP9 \\x1b\[2J/);
      assert.doesNotMatch(v.stderr, /\x1b/);
    });
  });
  for (const profile of ['escargot', 'msn-2007']) {
    test(`--transport http through the emulated gateway: ${profile}`, async () => {
      await withEmulator({ profile, transport: 'http', faults: ['13:error:600'] }, async (emu) => {
        const r = await runBin([`${emu.host}:${emu.port}`, '--transport', 'http', '-r', '7-16', '--deep', '--json']);
        const doc = JSON.parse(r.stdout) as ReportDocument;
        checkDocument(doc);
        const t = doc.targets[0];
        assert.equal(t?.transport, 'http');
        const expected = getProfile(profile).versions.filter((v) => v >= 7 && v <= 16 && v !== 13);
        assert.deepEqual(t?.accepted, expected);
        assert.equal(t?.probes.find((p) => p.version === 13)?.status, 'error');
        const login = profile === 'escargot' ? 'notification' : 'dispatch';
        assert.ok(
          t?.probes
            .filter((p) => p.status === 'accepted')
            .every((p) => p.deep?.login === login && p.deep.session === 'confirmed'),
        );
      });
    });
  }
  test('--transport http: HTTP-level failures get statuses of their own', async () => {
    const { createServer: createHttp } = await import('node:http');
    const notFound = createHttp((_, res) => res.writeHead(404).end('no'));
    const noSession = createHttp((_, res) => res.writeHead(200).end('VER 1 MSNP8\r\n'));
    const notHttp = createServer((s) => s.end('VER 1 MSNP8\r\n'));
    const listen = (s: Server): Promise<number> =>
      new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as { port: number }).port)));
    try {
      const cases: [Server, string, Record<string, unknown>][] = [
        [notFound, 'http-error', { httpStatus: 404 }],
        [noSession, 'http-invalid', { reason: 'no-session' }],
        [notHttp, 'http-invalid', { reason: 'not-http' }],
      ];
      for (const [server, status, details] of cases) {
        const port = await listen(server);
        const r = await runBin([`127.0.0.1:${port}`, '--transport', 'http', '-r', '8', '--no-offer', '--json']);
        assert.equal(r.code, 3);
        const p = (JSON.parse(r.stdout) as ReportDocument).targets[0]?.probes[0] as unknown as Record<string, unknown>;
        assert.equal(p['status'], status);
        for (const [k, v] of Object.entries(details)) assert.equal(p[k], v);
      }
    } finally {
      for (const s of [notFound, noSession, notHttp]) s.close();
    }
  });
});
