import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { closedPort, range, runBin, withEmulator } from './helpers.js';

function badgeTitle(svg: string): string {
  assert.equal(XMLValidator.validate(svg), true, svg);
  return String((new XMLParser().parse(svg) as { svg: { title: string } }).svg.title);
}

test('badge probes one target and prints its accepted versions; a silent one exits 3', async () => {
  await withEmulator({ profile: 'escargot', versions: range(8, 15) }, async (emulator) => {
    const ok = await runBin(['badge', `127.0.0.1:${emulator.port}`]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(badgeTitle(ok.stdout), 'MSNP: 8-15');
    const labelled = await runBin(['badge', `127.0.0.1:${emulator.port}`, '--range', '10-12', '--label', 'Escargot']);
    assert.equal(badgeTitle(labelled.stdout), 'Escargot: 10-12');
  });
  const silent = await runBin(['badge', `127.0.0.1:${await closedPort()}`, '--timeout', '5000']);
  assert.equal(silent.code, 3);
  assert.equal(badgeTitle(silent.stdout), 'MSNP: no answer');
});

test('badge --from reads a --json or --ndjson report, choosing the target named', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'msnp-badge-'));
  try {
    await withEmulator({ profile: 'escargot', versions: range(8, 12) }, async (a) => {
      await withEmulator({ profile: 'escargot', versions: range(15, 18) }, async (b) => {
        const json = await runBin([`127.0.0.1:${a.port}`, '--json']);
        const ndjson = await runBin([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`, '--ndjson']);
        await writeFile(join(dir, 'one.json'), json.stdout);
        await writeFile(join(dir, 'two.ndjson'), ndjson.stdout);
        const one = await runBin(['badge', '--from', join(dir, 'one.json')]);
        assert.equal(one.code, 0, one.stderr);
        assert.equal(badgeTitle(one.stdout), 'MSNP: 8-12');
        const named = await runBin(['badge', `127.0.0.1:${b.port}`, '--from', join(dir, 'two.ndjson')]);
        assert.equal(badgeTitle(named.stdout), 'MSNP: 15-18');
        const unnamed = await runBin(['badge', '--from', join(dir, 'two.ndjson')]);
        assert.equal(unnamed.code, 2);
        assert.match(unnamed.stderr, /holds 2 targets: name one/);
        const absent = await runBin(['badge', '127.0.0.1:1', '--from', join(dir, 'two.ndjson')]);
        assert.equal(absent.code, 2);
        assert.match(absent.stderr, /no report of 127\.0\.0\.1:1/);
      });
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('badge usage errors are one line and exit 2', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'msnp-badge-'));
  try {
    await writeFile(join(dir, 'junk.json'), '{"hello": "\x1b[2Jworld"}\n');
    const cases: [string[], RegExp][] = [
      [['badge'], /give HOST\[:PORT\] to probe, or --from FILE/],
      [['badge', '127.0.0.1', '127.0.0.2'], /one target at a time/],
      [['badge', '--from', join(dir, 'missing.json')], /--from: cannot read .*ENOENT/],
      [['badge', '--from', join(dir, 'junk.json')], /is not a msnp-probe --json or --ndjson report/],
      [['badge', '--from', dir], /--from: cannot read .*EISDIR/],
      [['badge', 'bad host'], /badge: target 'bad host'/],
      [['badge', '127.0.0.1', '--label', ''], /--label: needs some text/],
    ];
    for (const [args, message] of cases) {
      const r = await runBin(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.equal(r.stdout, '');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('badge error messages escape what the command line gave once, as every usage error is', async () => {
  const r = await runBin(['badge', 'bad\x1b[2Jhost']);
  assert.equal(r.code, 2);
  assert.ok(r.stderr.includes("target 'bad\\x1b[2Jhost'"), r.stderr);
  assert.ok(!r.stderr.includes('\x1b'));
});
