/**
 * CIDR blocks, ranges, exclusions, numeric spellings and address families through the real
 * executable and the library. Only loopback blocks are ever expanded here, and names are resolved
 * by an injected lookup: nothing leaves the machine.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { probe } from '../src/probe/probe.js';
import { filteredLookup } from '../src/input/family.js';
import { AddressFilter } from '../src/input/address.js';
import type { LookupFn } from '../src/transport/resolve.js';
import { runBin, TEST_TIMEOUT_MS } from './helpers.js';

let emu: Emulator;
let dir: string;
before(async () => {
  emu = await startEmulator({ profile: 'escargot', port: 0, versions: [8] });
  dir = mkdtempSync(join(tmpdir(), 'msnp-input-'));
});
after(async () => {
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

function hostsOf(stdout: string): Map<string, number[]> {
  const lines = stdout.split('\n').filter(Boolean);
  const docs = lines.map((l) => JSON.parse(l) as { host: string; accepted: number[] });
  return new Map(docs.map((d) => [d.host, d.accepted]));
}

describe('blocks and exclusions through the executable', { timeout: TEST_TIMEOUT_MS }, () => {
  test('a loopback /30 with --exclude: the excluded address is never probed', async () => {
    const args = [`127.0.0.0/30:${emu.port}`, '--exclude', '127.0.0.2', '--ndjson', '-r', '8', '--no-offer'];
    const r = await runBin(args, { timeoutMs: 120_000 });
    const hosts = hostsOf(r.stdout);
    assert.deepEqual([...hosts.keys()].sort(), ['127.0.0.0', '127.0.0.1', '127.0.0.3'], r.stderr);
    assert.deepEqual(hosts.get('127.0.0.1'), [8]);
    assert.deepEqual(hosts.get('127.0.0.3'), []);
  });

  test('a range in a --targets list with an --exclude-file block, and a numeric spelling', async () => {
    const list = join(dir, 'list.txt');
    const excludes = join(dir, 'exclude.txt');
    writeFileSync(list, `127.0.0.1-127.0.0.5:${emu.port}\n0x7f.1:${emu.port}  # the same host as 127.0.0.1\n`);
    writeFileSync(excludes, '# never these\n127.0.0.2/31\n127.0.0.5, 127.0.0.77\n');
    const r = await runBin(['--targets', list, '--exclude-file', excludes, '--ndjson', '-r', '8', '--no-offer'], {
      timeoutMs: 120_000,
    });
    const docs = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { host: string });
    assert.deepEqual(docs.map((d) => d.host).sort(), ['127.0.0.1', '127.0.0.1', '127.0.0.4'], r.stderr);
  });

  test('a numeric spelling is reported, excluded and sharded as its dotted quad', async () => {
    const args = [`2130706433:${emu.port}`, `127.1:${emu.port}`, '--exclude', '0177.0.0.1', '--ndjson', '-r', '8'];
    const r = await runBin(args);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /no targets to probe/);
    const one = await runBin([`0x7F.1:${emu.port}`, '--json', '-r', '8', '--no-offer']);
    assert.equal((JSON.parse(one.stdout) as { targets: { host: string }[] }).targets[0]?.host, '127.0.0.1', one.stderr);
  });

  const usage: [string[], RegExp][] = [
    [['2001:db8::/64'], /^msnp-probe: target '2001:db8::\/64': .*larger than \/112/],
    [['192.0.2.0/33'], /prefix length must be 0 to 32/],
    [['10.0.0.9-10.0.0.1'], /ends before it starts/],
    [['127.0.0.1', '--exclude', '10.0.0.0/99'], /^msnp-probe: --exclude: .*prefix length/],
    [['127.0.0.1', '--exclude-file', '/nonexistent/x'], /^msnp-probe: --exclude-file: cannot read '\/nonexistent\/x'/],
    [['127.0.0.1', '--exclude-file', '/dev/zero'], /^msnp-probe: --exclude-file: '\/dev\/zero' is not a regular file/],
    [['127.0.0.1', '-4', '-6'], /^msnp-probe: -4 and -6: choose one/],
    [['127.0.0.1', '--timeout', '5 s'], /^msnp-probe: --timeout: '5 s' is not a whole number of milli.* or a duration/],
    [['127.0.0.1', '--timeout', '1h30'], /^msnp-probe: --timeout: '1h30'/],
    [['serve', '--delay=-1s'], /^msnp-probe: --delay: '-1s'/],
    [['serve', '--idle-timeout', '1.5ms'], /^msnp-probe: --idle-timeout: '1.5ms' is not a whole number of milli/],
  ];
  for (const [args, why] of usage) {
    test(`usage error: ${args.join(' ')}`, async () => {
      // Nothing here gets as far as a connection: each fails while the command line is read.
      const r = await runBin(args[0] === 'serve' ? args : [...args, '-r', '8']);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      const lines = r.stderr.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0] ?? '', why);
    });
  }
});

describe('-4 / -6 and exclusions on resolved names', { timeout: TEST_TIMEOUT_MS }, () => {
  // A name with one address of each family; the IPv6 one would never be dialled by these tests.
  const dual: LookupFn = async () => [
    { address: '::1', family: 6 },
    { address: '127.0.0.1', family: 4 },
  ];
  // A getter: the emulator's port is known only once `before` has run.
  const base = {
    host: 'msn.test',
    get port(): number {
      return emu.port;
    },
    versions: [8],
    offer: false,
  };
  test('-4 picks the IPv4 address of a name', async () => {
    const report = await probe({ ...base, lookup: filteredLookup({ family: 4 }, dual) });
    assert.equal(report.address, '127.0.0.1');
    assert.deepEqual(report.accepted, [8]);
  });
  test('a name with no address of the family is unreachable, ENOTFOUND, and nothing is dialled', async () => {
    const v4only: LookupFn = async () => [{ address: '127.0.0.1', family: 4 }];
    const report = await probe({ ...base, lookup: filteredLookup({ family: 6 }, v4only) });
    assert.equal(report.address, null);
    assert.equal(report.probes[0]?.status, 'unreachable');
    assert.equal((report.probes[0] as { errno?: string }).errno, 'ENOTFOUND');
  });
  test('an excluded address is dropped from what a name resolves to', async () => {
    const exclude = new AddressFilter();
    exclude.add('::/0');
    const report = await probe({ ...base, lookup: filteredLookup({ exclude }, dual) });
    assert.equal(report.address, '127.0.0.1');
    exclude.add('127.0.0.0/8');
    const none = await probe({ ...base, lookup: filteredLookup({ exclude }, dual) });
    assert.equal(none.probes[0]?.status, 'unreachable');
  });
});
