import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { probe } from '../src/probe/probe.js';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import type { ReportDocument } from '../src/report/render/json.js';
import { parseProxy } from '../src/transport/socks.js';
import { closedPort, runBin, TEST_TIMEOUT_MS, checkDocument } from './helpers.js';
import { startTestSocks, type TestSocks } from './socks-server.js';

let socks: TestSocks;
let emulator: Emulator;
before(async () => {
  socks = await startTestSocks();
  emulator = await startEmulator({ profile: 'msn-2007' });
});
after(async () => {
  await emulator.close();
  await socks.close();
});
const noLookup = (host: string): Promise<never> => Promise.reject(new Error(`looked up ${host}`));

describe('--proxy socks5:// and socks5h://', { timeout: TEST_TIMEOUT_MS }, () => {
  test('every connection goes through the proxy; the report names it', async () => {
    const seen = socks.requests.length;
    const proxy = parseProxy(`socks5://127.0.0.1:${socks.port}`);
    const report = await probe({
      host: '127.0.0.1',
      port: emulator.port,
      versions: [7, 8, 9],
      proxy,
      timeoutMs: 30_000,
    });
    assert.deepEqual(report.accepted, [8, 9]);
    assert.equal(report.preferred, 9);
    assert.equal(report.proxy, `socks5://127.0.0.1:${socks.port}`);
    const mine = socks.requests.slice(seen);
    assert.equal(mine.length, 4, 'three versions and the offer');
    assert.ok(mine.every((r) => r.kind === 'ipv4' && r.host === '127.0.0.1' && r.port === emulator.port));
  });

  test('socks5h sends the name unresolved, and nothing is looked up here', async () => {
    const seen = socks.requests.length;
    const proxy = parseProxy(`socks5h://127.0.0.1:${socks.port}`);
    const report = await probe({
      host: 'msn.invalid',
      port: 1863,
      versions: [8],
      offer: false,
      proxy,
      lookup: noLookup,
    });
    assert.deepEqual(socks.requests.slice(seen), [{ kind: 'name', host: 'msn.invalid', port: 1863 }]);
    // The test proxy reaches no name: "host unreachable" is the target's outcome, not a lookup failure here.
    assert.equal(report.probes[0]?.status, 'unreachable');
    assert.equal(report.probes[0]?.status === 'unreachable' && report.probes[0].errno, 'EHOSTUNREACH');
    assert.equal(report.address, null);
    assert.equal(report.answered, false);
  });

  test('socks5h reaches a server by a name the proxy resolves (the test proxy knows localhost)', async () => {
    const seen = socks.requests.length;
    const proxy = parseProxy(`socks5h://127.0.0.1:${socks.port}`);
    const report = await probe({
      host: 'localhost',
      port: emulator.port,
      versions: [7, 8, 9],
      proxy,
      lookup: noLookup,
      timeoutMs: 30_000,
    });
    assert.deepEqual(report.accepted, [8, 9]);
    assert.equal(report.address, null);
    const mine = socks.requests.slice(seen);
    assert.equal(mine.length, 4, 'three versions and the offer');
    assert.ok(mine.every((r) => r.kind === 'name' && r.host === 'localhost' && r.port === emulator.port));
  });

  test('socks5 resolves names here, as a direct probe would', async () => {
    const seen = socks.requests.length;
    const asked: string[] = [];
    const lookup = (host: string): Promise<{ address: string; family: 4 }[]> => {
      asked.push(host);
      return Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
    };
    const proxy = parseProxy(`socks5://127.0.0.1:${socks.port}`);
    const report = await probe({
      host: 'msn.example.invalid',
      port: emulator.port,
      versions: [8],
      offer: false,
      proxy,
      lookup,
    });
    // `.invalid` fails without calling the lookup: the point is that socks5 never sends the name on.
    assert.deepEqual(asked, []);
    assert.equal(report.probes[0]?.status, 'unreachable');
    assert.equal(socks.requests.length, seen, 'a name that did not resolve here is not sent to the proxy');
  });

  test("the proxy's refusal is the target's: refused", async () => {
    const proxy = parseProxy(`socks5://127.0.0.1:${socks.port}`);
    const port = await closedPort();
    const report = await probe({ host: '127.0.0.1', port, versions: [8], offer: false, proxy, timeoutMs: 30_000 });
    assert.equal(report.probes[0]?.status, 'refused');
  });

  test('CLI: --json through the proxy validates, with the proxy field', async () => {
    const r = await runBin([
      '127.0.0.1',
      '-p',
      String(emulator.port),
      '--range',
      '8-9',
      '--json',
      '--proxy',
      `socks5h://127.0.0.1:${socks.port}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as ReportDocument;
    checkDocument(doc);
    assert.equal(doc.targets[0]?.proxy, `socks5h://127.0.0.1:${socks.port}`);
    assert.deepEqual(doc.targets[0]?.accepted, [8, 9]);
  });

  test('CLI: bad proxies and combinations are usage errors', async () => {
    const cases: [string[], RegExp][] = [
      [['--proxy', 'http://127.0.0.1:8080'], /--proxy: 'http:\/\/127\.0\.0\.1:8080' is not socks5:\/\/HOST:PORT/],
      [['--proxy', 'socks5://127.0.0.1:99999'], /--proxy: /],
      [['--proxy', 'socks5h://127.0.0.1:1080', '--follow'], /--proxy socks5h: --follow would resolve/],
    ];
    for (const [args, message] of cases) {
      const r = await runBin(['127.0.0.1:1', ...args]);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, message);
    }
  });
});
