import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TRAIT_PROBES } from '../src/probe/fingerprint/traits.js';
import { AllowList, buildAllowList, parseExporterConfig } from '../src/exporter/config.js';
import { connectionTimeoutMs, scrapeBudgetMs } from '../src/exporter/server.js';
import { isMsnpProbeError } from '../src/core/errors.js';

const YAML = `
modules:
  msnp15:
    range: 15
    timeout: 3000
    concurrency: 2
    deep: true
    targets:
      - 127.0.0.1:1864
      - msnp.test
  gateway:
    transport: http
    range: MSNP8-MSNP18
    targets: [gw.test]
`;

test('a YAML config gives each module its options, targets with the transport default port', async () => {
  const { modules } = await parseExporterConfig(YAML);
  assert.deepEqual([...modules.keys()], ['msnp15', 'gateway']);
  const m = modules.get('msnp15');
  assert.deepEqual(m?.versions, [15]);
  assert.equal(m?.timeoutMs, 3000);
  assert.equal(m?.concurrency, 2);
  assert.equal(m?.deep, true);
  assert.deepEqual(m?.targets, [
    { host: '127.0.0.1', port: 1864 },
    { host: 'msnp.test', port: 1863 },
  ]);
  const g = modules.get('gateway');
  assert.equal(g?.transport, 'http');
  assert.deepEqual(g?.targets, [{ host: 'gw.test', port: 80 }]);
  assert.equal(g?.timeoutMs, 5000, 'the CLI default');
});

test('a JSON config reads the same', async () => {
  const { modules } = await parseExporterConfig('{"modules": {"a": {"range": "2-4", "targets": ["[::1]:1863"]}}}');
  assert.deepEqual(modules.get('a')?.versions, [2, 3, 4]);
  assert.deepEqual(modules.get('a')?.targets, [{ host: '::1', port: 1863 }]);
  assert.equal((await parseExporterConfig('')).modules.size, 0);
});

test('a bad config is one clear line, naming the module and option', async () => {
  const cases: [string, RegExp][] = [
    ['modules:\n  a:\n    fingerprnt: true\n', /module 'a': unknown option 'fingerprnt' \(known: .*fingerprint/],
    ['modules:\n  a:\n    fingerprint: 1\n', /fingerprint must be true or false/],
    ['modules:\n  a:\n    range: 9-2\n', /module 'a': range: .*reversed/],
    ['modules:\n  a:\n    timeout: -1\n', /timeout \(ms\): must be a whole number from 1 to 600000/],
    ['modules:\n  a:\n    concurrency: 1000\n', /concurrency: must be a whole number from 1 to 64/],
    ['modules:\n  a:\n    deep: yes please\n', /deep must be true or false/],
    ['modules:\n  a:\n    transport: udp\n', /transport must be tcp or http/],
    ['modules:\n  a:\n    targets: [host:0]\n', /target 1: port 0 is outside/],
    ['modules:\n  a:\n    targets: 127.0.0.1\n', /targets must be a list/],
    ['modules:\n  "a b":\n    range: 8\n', /module name 'a b'/],
    ['module:\n  a: {}\n', /unknown top-level key 'module'/],
    ['- a\n- b\n', /must be a mapping/],
    ['modules: [1, 2]\n', /modules must be a mapping/],
    ['modules:\n  a: {}\n  a: {}\n', /not valid YAML or JSON/],
    ['modules: {a: [\n', /not valid YAML or JSON/],
  ];
  for (const [text, message] of cases) {
    await assert.rejects(
      parseExporterConfig(text),
      (err: unknown) => isMsnpProbeError(err) && message.test(err.message) && !err.message.includes('\n'),
      text,
    );
  }
});

test('YAML aliases cannot blow a small config up', async () => {
  // Each line holds the one before four times: 9 * 4^11 strings, from a few hundred bytes.
  const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 12; i++) {
    const name = String.fromCharCode(97 + i);
    const prev = `*${String.fromCharCode(96 + i)}`;
    lines.push(`${name}: &${name} [${prev},${prev},${prev},${prev}]`);
  }
  await assert.rejects(parseExporterConfig(lines.join('\n')), /not valid YAML or JSON/);
});

test('the allow list matches addresses, blocks, ports and names, never resolving a name', () => {
  const list = new AllowList();
  for (const entry of ['127.0.0.0/8', '::1', '10.1.2.3:1863', '[fd00::]/8:1863', 'msnp.test', 'other.test:1864'])
    list.add(entry);
  const allowed = (host: string, port = 1863): boolean => list.allows({ host, port });
  assert.ok(allowed('127.5.6.7', 9999));
  assert.ok(allowed('::1', 2));
  assert.ok(allowed('10.1.2.3'));
  assert.ok(!allowed('10.1.2.3', 1864), 'another port of a port-limited address');
  assert.ok(allowed('fd12::1'));
  assert.ok(!allowed('fd12::1', 80));
  assert.ok(allowed('MSNP.test.', 1)); // a name in any case, with a final dot, any port
  assert.ok(allowed('other.test', 1864));
  assert.ok(!allowed('other.test', 1863));
  assert.ok(!allowed('128.0.0.1'));
  assert.ok(!allowed('sub.msnp.test'), 'names match exactly');
  assert.ok(!allowed('localhost'), 'a name is not matched against address blocks');
  for (const bad of ['', '127.0.0.1/33', '::1/129', 'not a host', 'host:0', '1.2.3/8']) {
    assert.throws(
      () => list.add(bad),
      (err: unknown) => isMsnpProbeError(err),
      bad,
    );
  }
});

test("the allow list is --allow plus the modules' targets; nothing given, nothing allowed", async () => {
  assert.equal(buildAllowList([], { modules: new Map() }).size, 0);
  const list = buildAllowList(['127.0.0.1'], await parseExporterConfig(YAML));
  assert.ok(list.allows({ host: 'msnp.test', port: 1863 }));
  assert.ok(!list.allows({ host: 'msnp.test', port: 1864 }));
  assert.ok(list.allows({ host: '127.0.0.1', port: 1 }));
  assert.throws(() => buildAllowList(['300.1.1.1/8'], { modules: new Map() }), /allow '300\.1\.1\.1\/8'/);
});

test('the probe deadline follows the scrape timeout, less a margin, and fits every wave of connections', () => {
  assert.equal(scrapeBudgetMs(undefined), 9500);
  assert.equal(scrapeBudgetMs('4'), 3500);
  assert.equal(scrapeBudgetMs('0.6'), 300, 'a short timeout keeps half of itself');
  assert.equal(scrapeBudgetMs('100000'), 599_500);
  for (const bad of ['0', '-1', 'abc', '1e3', '', ' ']) assert.throws(() => scrapeBudgetMs(bad), bad);
  const module = {
    name: 'm',
    versions: Array.from({ length: 20 }, (_, i) => i + 2),
    timeoutMs: 5000,
    concurrency: 4,
    deep: false,
    fingerprint: false,
    transport: 'tcp' as const,
    targets: [],
  };
  // 21 connections 4 at a time: 6 waves, plus name resolution.
  assert.equal(connectionTimeoutMs(module, 3500), 500);
  assert.equal(connectionTimeoutMs(module, 600_000), 5000, 'never above the module timeout');
  assert.equal(connectionTimeoutMs(module, 1), 1);
  // The fingerprint's connections come after, under the same concurrency: more waves share the budget.
  const waves = Math.ceil((21 + TRAIT_PROBES.length) / 4) + 1;
  assert.equal(connectionTimeoutMs({ ...module, fingerprint: true }, 3500), Math.floor(3500 / waves));
});
