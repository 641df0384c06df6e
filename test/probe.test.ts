import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { probe, type TargetReport } from '../src/probe/probe.js';
import { PROFILES } from '../src/emulator/profiles.js';
import * as reply from '../src/emulator/replies.js';
import {
  PATIENCE_MS,
  SHORT_DEADLINE_MS,
  TIMER_SLACK_MS,
  closedPort,
  hasIpv6Loopback,
  range,
  waitUntil,
  withEmulator,
} from './helpers.js';

const NO_IPV6 = (await hasIpv6Loopback()) ? false : 'no IPv6 loopback (::1) on this machine';

const statuses = (r: TargetReport): Record<number, string> =>
  Object.fromEntries(r.probes.map((p) => [p.version, p.status]));

describe('probe() against every profile', () => {
  const preferred: Record<string, number> = {
    escargot: 18,
    // Escargot's first commit picked the highest version offered.
    'escargot-2017': 21,
    // ReMessenger re-sorts the offer high to low.
    remessenger: 22,
    'msn-2000': 5,
    'msn-2002': 7,
    'msn-2003': 10,
    'msn-2007': 16,
    'msn-2010': 18,
    'msn-2014': 16,
  };
  for (const profile of Object.values(PROFILES)) {
    test(`${profile.name}: exact status of every version 1-22 and the preferred version`, async () => {
      await withEmulator({ profile: profile.name }, async (emu) => {
        const report = await probe({ host: emu.host, port: emu.port, versions: range(1, 22), timeoutMs: PATIENCE_MS });
        const expected = Object.fromEntries(
          range(1, 22).map((v) => [v, profile.versions.includes(v) ? 'accepted' : 'rejected']),
        );
        assert.deepEqual(statuses(report), expected);
        assert.deepEqual(report.accepted, profile.versions);
        assert.equal(report.preferred, preferred[profile.name]);
        assert.equal(report.answered, true);
        assert.equal(report.address, '127.0.0.1');
        const v = profile.versions[0] ?? 0;
        const acceptedReply = report.probes.find((p) => p.version === v)?.reply;
        const echo = profile.acceptForm === 'echo';
        assert.equal(`${acceptedReply}\r\n`, reply.verAccepted(1, [v], echo));
        const rejected = report.probes.find((p) => p.version === 1);
        assert.ok(rejected?.status === 'rejected');
        if (profile.rejectForm === 'list-open')
          assert.deepEqual(rejected.serverVersions, [...profile.versions].reverse());
        else assert.deepEqual(rejected.serverVersions, []);
      });
    });
  }
});

describe('probe() fault modes, one version each', () => {
  const faults: [string, string, (p: TargetReport['probes'][number]) => void][] = [
    ['close', 'closed', (p) => assert.equal(p.bytesReceived, 0)],
    ['partial', 'closed', (p) => assert.ok(p.bytesReceived > 0 && p.reply === null && p.firstBytes)],
    ['reset', 'reset', () => undefined],
    [
      'hang',
      'timeout',
      (p) => assert.ok(p.status === 'timeout' && p.phase === 'reply' && p.elapsedMs >= SHORT_DEADLINE_MS - 10),
    ],
    [
      // 19 bytes 400 ms apart: the reply would end after 7.2 s, past the deadline and its slack.
      'drip:400',
      'timeout',
      (p) =>
        assert.ok(p.status === 'timeout' && p.bytesReceived >= 1 && p.elapsedMs < SHORT_DEADLINE_MS + TIMER_SLACK_MS),
    ],
    ['drip:1', 'accepted', () => undefined],
    ['split', 'accepted', () => undefined],
    ['wrong-trid', 'mismatch', (p) => assert.ok(p.status === 'mismatch' && p.reason === 'trid' && p.trId === 2)],
    ['wrong-version', 'mismatch', (p) => assert.ok(p.status === 'mismatch' && p.reason === 'version')],
    ['cvr0-only', 'rejected', (p) => assert.ok(p.status === 'rejected' && p.form === 'cvr0-only')],
    ['banner', 'unexpected', (p) => assert.ok(p.status === 'unexpected' && p.reason === 'banner')],
    ['http', 'unexpected', (p) => assert.ok(p.status === 'unexpected' && p.reason === 'http')],
    ['tls', 'unexpected', (p) => assert.ok(p.status === 'unexpected' && p.reason === 'tls')],
    ['garbage', 'unexpected', (p) => assert.ok(p.status === 'unexpected' && p.reason === 'binary')],
    [
      'endless',
      'unexpected',
      (p) => assert.ok(p.status === 'unexpected' && p.reason === 'too-long' && p.elapsedMs < PATIENCE_MS / 2),
    ],
    ['error:600', 'error', (p) => assert.ok(p.status === 'error' && p.code === 600 && p.busy)],
    ['error:911', 'error', (p) => assert.ok(p.status === 'error' && p.code === 911 && !p.busy)],
    ['escape', 'unexpected', (p) => assert.equal(p.reply, reply.escapeReply(1, 13).slice(0, -2))],
    ['out', 'closed', (p) => assert.ok(p.status === 'closed' && p.out === 'SSD')],
  ];
  for (const [fault, status, check] of faults) {
    test(`13:${fault} -> ${status}, neighbours untouched`, async () => {
      await withEmulator({ profile: 'escargot', faults: [`13:${fault}`] }, async (emu) => {
        // Only a fault that must end in a timeout gets a short deadline; the others get one that a
        // loaded machine cannot reach, so the neighbours' answers never race it.
        const [faulty, neighbours] = await Promise.all([
          probe({
            host: emu.host,
            port: emu.port,
            versions: [13],
            offer: false,
            timeoutMs: status === 'timeout' ? SHORT_DEADLINE_MS : PATIENCE_MS,
          }),
          probe({ host: emu.host, port: emu.port, versions: [12, 14], timeoutMs: PATIENCE_MS }),
        ]);
        assert.deepEqual(
          { ...statuses(faulty), ...statuses(neighbours) },
          { 12: 'accepted', 13: status, 14: 'accepted' },
        );
        const p = faulty.probes[0];
        assert.ok(p);
        check(p);
      });
    });
  }
  test('a banner fault for every version speaks before the client', async () => {
    await withEmulator({ profile: 'escargot', faults: ['banner'] }, async (emu) => {
      const report = await probe({ host: emu.host, port: emu.port, versions: [8], timeoutMs: PATIENCE_MS });
      const p = report.probes[0];
      assert.ok(p?.status === 'unexpected' && p.reason === 'banner');
      assert.equal(`${p.reply}\r\n`, reply.SMTP_BANNER);
      assert.equal(report.answered, false);
    });
  });
});

describe('probe() network outcomes', () => {
  test('refused on a closed port, answered=false', async () => {
    const port = await closedPort();
    const report = await probe({ host: '127.0.0.1', port, versions: [8, 9] });
    assert.deepEqual(statuses(report), { 8: 'refused', 9: 'refused' });
    assert.equal(report.offer?.status, 'refused');
    assert.equal(report.answered, false);
  });
  test('unreachable when the name does not resolve (injected resolver, no DNS traffic)', async () => {
    const lookup = async (): Promise<never> => {
      throw Object.assign(new Error('nope'), { code: 'ENOTFOUND' });
    };
    const report = await probe({ host: 'msn.example', versions: [8], lookup });
    const p = report.probes[0];
    assert.ok(p?.status === 'unreachable' && p.reason === 'dns' && p.errno === 'ENOTFOUND');
    assert.equal(report.address, null);
  });
  test('.invalid names fail without a lookup', async () => {
    const report = await probe({
      host: 'server.invalid',
      versions: [8],
      lookup: () => Promise.reject(new Error('must not be called')),
    });
    assert.equal(report.probes[0]?.status, 'unreachable');
  });
  test('IPv6 loopback', { skip: NO_IPV6 }, async () => {
    await withEmulator({ host: '::1', profile: 'escargot' }, async (emu) => {
      const report = await probe({ host: '::1', port: emu.port, versions: [8] });
      assert.equal(report.family, 6);
      assert.deepEqual(report.accepted, [8]);
    });
  });
  test('an AbortSignal cancels the run and closes every connection', async () => {
    await withEmulator({ profile: 'escargot', faults: ['hang'] }, async (emu) => {
      const controller = new AbortController();
      const running = probe({
        host: emu.host,
        port: emu.port,
        versions: range(2, 21),
        timeoutMs: 10_000,
        signal: controller.signal,
      });
      await new Promise((r) => setTimeout(r, 100));
      controller.abort();
      await assert.rejects(running, { name: 'AbortError' });
      await waitUntil('the emulator sees every connection closed', () => emu.stats().active === 0);
    });
  });
  test('concurrency bounds the connections open at once', async () => {
    await withEmulator({ profile: 'escargot', delayMs: 50 }, async (emu) => {
      await probe({ host: emu.host, port: emu.port, versions: range(2, 21), concurrency: 3 });
      assert.equal(emu.stats().connections, 21);
      assert.ok(emu.stats().peakActive <= 3, `peak ${emu.stats().peakActive}`);
    });
  });
  test('the matrix: the offer first, then each version in order, one at a time at concurrency 1', async () => {
    const lines: string[] = [];
    let open = 0;
    let most = 0;
    const server = createServer((socket) => {
      open++;
      most = Math.max(most, open);
      socket.on('close', () => open--);
      socket.on('error', () => socket.destroy());
      socket.once('data', (chunk) => {
        const line = chunk.toString('latin1').split('\r\n')[0] ?? '';
        lines.push(line);
        const chosen = line.split(' ')[2] ?? 'MSNP8';
        socket.end(`VER 1 ${chosen}\r\n`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const report = await probe({
        host: '127.0.0.1',
        port,
        versions: [3, 4, 5],
        concurrency: 1,
        timeoutMs: PATIENCE_MS,
      });
      assert.deepEqual(lines, [
        'VER 1 MSNP5 MSNP4 MSNP3 CVR0',
        'VER 1 MSNP3 CVR0',
        'VER 1 MSNP4 CVR0',
        'VER 1 MSNP5 CVR0',
      ]);
      assert.equal(most, 1);
      assert.deepEqual(
        report.probes.map((p) => [p.version, p.status]),
        [
          [3, 'accepted'],
          [4, 'accepted'],
          [5, 'accepted'],
        ],
      );
      assert.equal(report.offer?.status, 'accepted');
      assert.equal(report.preferred, 5);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
  test('after an abort, no further connection of the matrix starts', async () => {
    let connections = 0;
    const sockets = new Set<Socket>();
    // Never answers: every connection waits for its deadline, or the abort.
    const server = createServer((socket) => {
      connections++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      // Reads (and drops) what comes, so the prober's close is seen.
      socket.resume();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const controller = new AbortController();
      const running = probe({
        host: '127.0.0.1',
        port,
        versions: range(2, 9),
        offer: false,
        concurrency: 2,
        timeoutMs: 60_000,
        signal: controller.signal,
      });
      await waitUntil('two connections open', () => connections === 2);
      controller.abort();
      await assert.rejects(running, { name: 'AbortError' });
      await waitUntil('the server sees every connection closed', () => sockets.size === 0);
      // Time for any connection a freed slot would have started to reach the server.
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(connections, 2);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
  test('bad options throw MsnpProbeError', async () => {
    await assert.rejects(probe({ host: '127.0.0.1', versions: [] }), { code: 'ERR_RANGE' });
    await assert.rejects(probe({ host: '127.0.0.1', timeoutMs: 0 }), { code: 'ERR_OPTION' });
    await assert.rejects(probe({ host: '127.0.0.1', port: 70000 }), { code: 'ERR_TARGET' });
  });
});
