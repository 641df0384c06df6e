/**
 * -4/-6 beyond the plain probe: badge resolves its HOST to the chosen family, demo listens on the
 * chosen loopback and probes it, exporter accepts them. Names resolve through an injected lookup.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { parse } from '../src/cli/parser.js';
import { badge } from '../src/cli/badge-command.js';
import { exporter } from '../src/cli/exporter-command.js';
import { main, EXIT } from '../src/cli/main.js';
import type { LookupFn } from '../src/transport/resolve.js';
import { withEmulator, fakeIo, hasIpv6Loopback } from './helpers.js';

const NO_IPV6 = (await hasIpv6Loopback()) ? false : 'no IPv6 loopback (::1) on this machine';

/** A name with only an IPv4 address, the loopback: never a DNS query. */
const v4only: LookupFn = async (host) => {
  assert.equal(host, 'emulator.test');
  return [{ address: '127.0.0.1', family: 4 }];
};

async function runBadge(argv: string[]): Promise<{ code: number; out: string }> {
  const { err, args } = await parse(['badge', ...argv]);
  assert.equal(err, null);
  const positional = (args['_'] as unknown[]).map(String).slice(1);
  const io = fakeIo();
  const code = await badge(args, positional, io, v4only);
  return { code, out: io.out };
}

describe('badge -4/-6', () => {
  test('-4 probes the IPv4 address of the name; -6 finds none: no MSNP answer', async () => {
    await withEmulator({ host: '127.0.0.1', profile: 'escargot' }, async (emu) => {
      const target = `emulator.test:${emu.port}`;
      const plain = await runBadge(['-r', '8-9', target]);
      assert.equal(plain.code, EXIT.ok);
      const v4 = await runBadge(['-4', '-r', '8-9', target]);
      assert.equal(v4.code, EXIT.ok);
      assert.match(v4.out, /^<svg/);
      const v6 = await runBadge(['-6', '-r', '8-9', target]);
      assert.equal(v6.code, EXIT.noMsnpAnswer);
    });
  });
  test('with --from, or both: a usage error', async () => {
    for (const argv of [
      ['badge', '-6', '--from', 'report.json'],
      ['badge', '-4', '-6', 'x.invalid'],
    ]) {
      const io = fakeIo();
      assert.equal(await main(argv, io), EXIT.usage, argv.join(' '));
      assert.match(io.err, /^msnp-probe: -[46].*\n$/);
    }
  });
});

describe('demo -4/-6: the emulator on that loopback, probed there', () => {
  for (const [flag, host] of [
    ['-6', '::1'],
    ['-4', '127.0.0.1'],
  ] as const) {
    test(flag, { skip: host === '::1' && NO_IPV6 }, async () => {
      const io = fakeIo();
      assert.equal(await main(['demo', flag, '-r', '8', '--no-offer', '--json'], io), EXIT.ok, io.err);
      const doc = JSON.parse(io.out) as { targets: { host: string; accepted: number[] }[] };
      assert.equal(doc.targets[0]?.host, host);
      assert.deepEqual(doc.targets[0]?.accepted, [8]);
    });
  }
  test('an address it cannot listen on (a port in use here; ::1 where there is none): one line, exit 2', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = busy.address() as AddressInfo;
      const io = fakeIo();
      assert.equal(await main(['demo', '--port', String(port), '-r', '8'], io), EXIT.usage, io.err);
      assert.equal(io.out, '');
      assert.match(io.err, /^msnp-probe: demo: cannot listen: listen EADDRINUSE: [^\n]*\n$/);
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });
  test('-6 with an IPv4 --host, or -4 with -6: a usage error', async () => {
    for (const argv of [
      ['demo', '-6', '--host', '127.0.0.1'],
      ['demo', '-4', '-6'],
    ]) {
      const io = fakeIo();
      assert.equal(await main(argv, io), EXIT.usage, argv.join(' '));
      assert.equal(io.out, '');
      assert.match(io.err, /^msnp-probe: -.*\n$/);
    }
  });
});

describe('exporter -4/-6', () => {
  test('are its options; both at once is a usage error', async () => {
    assert.equal((await parse(['exporter', '-6', '--allow', '127.0.0.1'])).err, null);
    assert.equal((await parse(['exporter', '--ipv4', '--allow', '127.0.0.1'])).err, null);
    const io = fakeIo();
    assert.equal(await main(['exporter', '-4', '-6', '--allow', '127.0.0.1'], io), EXIT.usage);
    assert.match(io.err, /-4 and -6: choose one address family/);
  });
});

/** GET on the loopback exporter. */
async function scrape(port: number, path: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return await res.text();
}

describe('exporter -4/-6 filter the addresses of a scraped name', () => {
  for (const [flag, success] of [
    [[], '1'],
    [['-4'], '1'],
    [['-6'], '0'],
  ] as const) {
    test(`${flag.join(' ') || '(either)'}: msnp_probe_success ${success}`, async () => {
      await withEmulator({ host: '127.0.0.1', profile: 'escargot' }, async (emu) => {
        const argv = ['exporter', ...flag, '--listen', '127.0.0.1:0', '--allow', 'emulator.test'];
        const { err, args } = await parse(argv);
        assert.equal(err, null);
        let stop = (_why: string): void => undefined;
        const io = fakeIo();
        io.stopSignal = () => new Promise<string>((resolve) => (stop = resolve));
        const running = exporter(args, io, v4only);
        // The exporter says where it listens once it does: wait for that line, not for a clock.
        while (!/listening on http:\/\/127\.0\.0\.1:(\d+)\//.test(io.out)) {
          await new Promise((resolve) => setImmediate(resolve));
        }
        const port = Number(/127\.0\.0\.1:(\d+)\//.exec(io.out)?.[1]);
        try {
          const body = await scrape(port, `/probe?target=emulator.test:${emu.port}`);
          assert.match(body, new RegExp(`^msnp_probe_success(\\{[^}]*\\})? ${success}$`, 'm'), body);
        } finally {
          stop('test');
          assert.equal(await running, EXIT.ok);
        }
      });
    });
  }
});
