import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { probeFollowing } from '../src/probe/follow.js';
import type { ReportDocument } from '../src/report/render/json.js';
import type { LookupFn } from '../src/transport/resolve.js';
import { closedPorts, range, runBin, withEmulator, checkDocument } from './helpers.js';

const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

/**
 * A loopback server for MSNP8+: accepts every VER, answers CVR, and answers USR with
 * `XFR t NS <route(version)> U D`, or with an auth challenge when `route` gives null.
 */
async function xfrServer(route: (version: number) => string | null): Promise<number> {
  const server = createServer((socket) => {
    let version = 0;
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      for (const line of chunk.toString('latin1').split('\r\n')) {
        const [cmd, trId, ...rest] = line.split(' ');
        if (cmd === 'VER') {
          version = Number((rest[0] ?? '').replace('MSNP', ''));
          socket.write(`VER ${trId} ${rest[0]}\r\n`);
        }
        if (cmd === 'CVR') socket.write(`CVR ${trId} 8.1.0178 8.1.0178 8.1.0178 u u\r\n`);
        if (cmd === 'USR') {
          const to = route(version);
          if (to === null) socket.write(`USR ${trId} TWN S ct=1,rver=1\r\n`);
          else socket.end(`XFR ${trId} NS ${to} U D\r\n`);
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return (server.address() as { port: number }).port;
}

/** A resolver for test names only; records every question so a test can show one was never asked. */
function fakeResolver(names: Record<string, string>): { lookup: LookupFn; asked: string[] } {
  const asked: string[] = [];
  const lookup: LookupFn = async (host) => {
    asked.push(host);
    const address = names[host.toLowerCase()];
    if (!address) throw Object.assign(new Error('no such name'), { code: 'ENOTFOUND' });
    return [{ address, family: 4 }];
  };
  return { lookup, asked };
}

const LOOP = '127.0.0.1';
const DISPATCH = 'dispatch.msnp-follow.test';

/** No combined offer, and a deadline generous enough for a busy machine. */
const quiet = { offer: false, timeoutMs: 10_000 } as const;

const summary = (r: { redirects?: { to: string; followed: boolean; reason?: string }[] } | undefined) =>
  (r?.redirects ?? []).map((x) => [x.to, x.followed, x.reason ?? null]);

describe('--follow policy', () => {
  test('from a loopback target: loopback redirects followed; other classes and names not, none resolved', async () => {
    const ns = await xfrServer(() => null);
    const routes: Record<number, string> = {
      8: `127.0.0.1:${ns}`,
      9: '10.0.0.1:1863',
      10: '0.0.0.0:1863',
      11: 'ns.msnp-follow.test:1863',
      12: 'bad_name!:1863',
    };
    const dispatch = await xfrServer((v) => routes[v] ?? null);
    const { lookup, asked } = fakeResolver({ 'ns.msnp-follow.test': '127.0.0.1' });
    const reports = await probeFollowing({ ...quiet, host: LOOP, port: dispatch, versions: range(8, 12), lookup });
    assert.deepEqual(
      reports.map((r) => r.port),
      [dispatch, ns],
    );
    assert.deepEqual(summary(reports[0]), [
      [`127.0.0.1:${ns}`, true, null],
      ['10.0.0.1:1863', false, 'policy'],
      ['0.0.0.0:1863', false, 'policy'],
      ['ns.msnp-follow.test:1863', false, 'policy'],
      ['bad_name!:1863', false, 'invalid-host'],
    ]);
    const classes = reports[0]?.redirects?.map((r) => r.addressClass ?? null);
    assert.deepEqual(classes, ['loopback', 'private', 'reserved', null, null]);
    assert.deepEqual(asked, [], "a name outside the target's domain never reaches the resolver");
  });

  test("a name under the target's domain is resolved once, checked, and probed at that address", async () => {
    const ns = await xfrServer(() => null);
    const routes: Record<number, string> = { 8: `ns.msnp-follow.test:${ns}`, 9: `data-c2VjcmV0.elsewhere.test:${ns}` };
    const dispatch = await xfrServer((v) => routes[v] ?? null);
    const { lookup, asked } = fakeResolver({ [DISPATCH]: LOOP, 'ns.msnp-follow.test': LOOP });
    const reports = await probeFollowing({ ...quiet, host: DISPATCH, port: dispatch, versions: [8, 9], lookup });
    assert.deepEqual(summary(reports[0]), [
      [`ns.msnp-follow.test:${ns}`, true, null],
      [`data-c2VjcmV0.elsewhere.test:${ns}`, false, 'policy'],
    ]);
    assert.equal(reports[0]?.redirects?.[0]?.address, '127.0.0.1');
    assert.deepEqual(asked, ['dispatch.msnp-follow.test', 'ns.msnp-follow.test']);
    assert.equal(reports[1]?.host, 'ns.msnp-follow.test');
    assert.equal(reports[1]?.address, '127.0.0.1');
    assert.ok(reports[1]?.probes.every((p) => p.deep?.login === 'notification'));
  });

  test('a name that resolves to another class is not followed', async () => {
    const dispatch = await xfrServer((v) => (v === 8 ? 'ns.msnp-follow.test:1863' : null));
    const { lookup } = fakeResolver({ 'dispatch.msnp-follow.test': '127.0.0.1', 'ns.msnp-follow.test': '10.9.8.7' });
    const reports = await probeFollowing({ ...quiet, host: DISPATCH, port: dispatch, versions: [8], lookup });
    assert.equal(reports.length, 1);
    assert.deepEqual(summary(reports[0]), [['ns.msnp-follow.test:1863', false, 'policy']]);
    assert.equal(reports[0]?.redirects?.[0]?.addressClass, 'private');
  });

  test('followAny lifts the policy: valid names resolved (unresolvable ones listed), invalid ones not', async () => {
    const ns = await xfrServer(() => null);
    const dispatch = await xfrServer(
      (v) => ({ 8: `ns.anywhere.test:${ns}`, 9: 'gone.invalid:1863', 10: 'bad_name!:1863' })[v] ?? null,
    );
    const { lookup, asked } = fakeResolver({ 'ns.anywhere.test': '127.0.0.1' });
    const options = { ...quiet, host: LOOP, port: dispatch, versions: [8, 9, 10], lookup, followAny: true };
    const reports = await probeFollowing(options);
    assert.deepEqual(summary(reports[0]), [
      [`ns.anywhere.test:${ns}`, true, null],
      ['gone.invalid:1863', false, 'unresolved'],
      ['bad_name!:1863', false, 'invalid-host'],
    ]);
    assert.deepEqual(asked, ['ns.anywhere.test']);
    assert.equal(reports.length, 2);
  });
});

describe('--follow and --exclude', () => {
  test('a redirect to an excluded address or name is listed as excluded, never probed nor resolved', async () => {
    const ns = await xfrServer(() => null);
    const routes: Record<number, string> = { 8: `127.0.0.1:${ns}`, 9: `ns.msnp-follow.test:${ns}` };
    const dispatch = await xfrServer((v) => routes[v] ?? null);
    const { lookup, asked } = fakeResolver({ [DISPATCH]: LOOP, 'ns.msnp-follow.test': LOOP });
    const exclude = (host: string): boolean => host === '127.0.0.1' || host === 'ns.msnp-follow.test';
    const options = { ...quiet, host: DISPATCH, port: dispatch, versions: [8, 9], lookup, exclude };
    const reports = await probeFollowing(options);
    assert.equal(reports.length, 1);
    assert.deepEqual(summary(reports[0]), [
      [`127.0.0.1:${ns}`, false, 'excluded'],
      [`ns.msnp-follow.test:${ns}`, false, 'excluded'],
    ]);
    assert.deepEqual(asked, [DISPATCH]);
  });
});

describe('--follow cap', () => {
  test('a fan-out is cut at followMax servers per starting target, the rest listed as cap', async () => {
    const dead = await closedPorts(5);
    const dispatch = await xfrServer((v) => `127.0.0.1:${dead[v - 8]}`);
    const options = { ...quiet, host: LOOP, port: dispatch, versions: range(8, 12), followMax: 2 };
    const reports = await probeFollowing(options);
    assert.equal(reports.length, 3);
    const reasons = reports[0]?.redirects?.map((r) => r.reason ?? 'followed');
    assert.deepEqual(reasons, ['followed', 'followed', 'cap', 'cap', 'cap']);
  });

  test('the default cap (16) holds over two hops: 28 servers named, 16 followed', async () => {
    const versions = range(8, 21);
    const leaves = await closedPorts(versions.length);
    // Fourteen servers, each redirecting every version to a leaf of its own: 14 + 14 servers named.
    const middles = await Promise.all(versions.map((_, i) => xfrServer(() => `127.0.0.1:${leaves[i]}`)));
    const dispatch = await xfrServer((v) => `127.0.0.1:${middles[v - 8]}`);
    const reports = await probeFollowing({ ...quiet, host: '127.0.0.1', port: dispatch, versions });
    assert.equal(reports.length, 1 + 16);
    const all = reports.flatMap((r) => r.redirects ?? []);
    assert.equal(all.filter((r) => r.followed).length, 16);
    assert.equal(all.filter((r) => r.reason === 'cap').length, 12);
  });
});

describe('bin: --follow-max, --follow-any', () => {
  test('--follow-max 0: the redirect is listed as cap, schema-valid; without --follow: a usage error', async () => {
    await withEmulator({ profile: 'msn-2010' }, async (emu) => {
      const r = await runBin([`${emu.host}:${emu.port}`, '-r', '11-12', '--follow', '--follow-max', '0', '--json']);
      const doc = JSON.parse(r.stdout) as ReportDocument;
      checkDocument(doc);
      assert.equal(doc.targets.length, 1);
      const redirects = doc.targets[0]?.redirects?.map((x) => [x.followed, x.reason, x.addressClass]);
      assert.deepEqual(redirects, [[false, 'cap', 'loopback']]);
      const usage = await runBin([`${emu.host}:${emu.port}`, '--follow-max', '2']);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /^msnp-probe: --follow-max: only with --follow/);
    });
  });
});
