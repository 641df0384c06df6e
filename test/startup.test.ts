import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, ROOT, runBin } from './helpers.js';

/** The files Node loads for `file` before any of its code runs: it and its static imports, transitively. */
function staticClosure(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  // esbuild writes chunk imports as `from "./x.mjs"` or a bare `import "./x.mjs"`; import("./x.mjs") is lazy.
  for (const m of text.matchAll(/(?:\bfrom|^import)\s*"(\.{1,2}\/[^"]+\.mjs)"/gm)) {
    staticClosure(join(dirname(file), m[1] as string), seen);
  }
  return seen;
}

function loadedText(entry: string): string {
  return [...staticClosure(entry)].map((f) => readFileSync(f, 'utf8')).join('\n');
}

const ENTRY = join(ROOT, 'dist', 'cli.mjs');

test('a bare start compiles neither yargs nor the probe code: only the entry and its small chunks', () => {
  const text = loadedText(ENTRY);
  assert.doesNotMatch(text, /node_modules\/yargs/);
  assert.doesNotMatch(text, /dist\/src\/probe\//);
  assert.ok(text.length < 40_000, `a bare start loads ${text.length} bytes`);
});

test('a probe loads neither the emulator, the exporter nor the badge code until a command needs them', () => {
  const main = readFileSync(ENTRY, 'utf8').match(/import\("(\.\/cli-chunks\/main-[^"]+\.mjs)"\)/);
  assert.ok(main?.[1], 'the entry imports main on demand');
  const text = loadedText(join(ROOT, 'dist', main[1]));
  assert.match(text, /dist\/src\/probe\//);
  for (const lazy of ['dist/src/emulator/server', 'dist/src/exporter/', 'dist/src/cli/badge-command', 'socks/']) {
    assert.ok(!text.includes(lazy), `${lazy} is loaded by every probe`);
  }
});

test('a probe compiles none of the help layout code (cliui, string-width): help requires it when printed', () => {
  const main = readFileSync(ENTRY, 'utf8').match(/import\("(\.\/cli-chunks\/main-[^"]+\.mjs)"\)/);
  assert.ok(main?.[1], 'the entry imports main on demand');
  const text = loadedText(join(ROOT, 'dist', main[1]));
  assert.match(text, /node_modules\/yargs\//);
  for (const lazy of ['node_modules/cliui/', 'node_modules/string-width/', 'node_modules/emoji-regex/']) {
    assert.ok(!text.includes(lazy), `${lazy} is compiled by every probe`);
  }
});

test('a probe loads its modules from a few files: Node 20 resolves, reads and links each in turn', () => {
  const main = readFileSync(ENTRY, 'utf8').match(/import\("(\.\/cli-chunks\/main-[^"]+\.mjs)"\)/);
  assert.ok(main?.[1], 'the entry imports main on demand');
  const files = [...staticClosure(join(ROOT, 'dist', main[1]))];
  assert.ok(
    files.length <= 6,
    `a probe loads ${files.length} files: ${files.map((f) => f.replace(/.*\//, '')).join(' ')}`,
  );
});

test("a worker thread loads the probe code without yargs or the CLI's parser", () => {
  const chunks = join(ROOT, 'dist', 'cli-chunks');
  const files = readdirSync(chunks).filter((f) => f.endsWith('.mjs'));
  // The worker runs the file that holds workers.js's code (new Worker(import.meta.url)).
  const own = files.filter((f) => readFileSync(join(chunks, f), 'utf8').includes('// dist/src/cli/workers.js\n'));
  assert.equal(own.length, 1, own.join(' '));
  const text = loadedText(join(chunks, own[0] as string));
  assert.match(text, /dist\/src\/probe\//);
  assert.doesNotMatch(text, /node_modules\/yargs|dist\/src\/cli\/parser\.js/);
});

test('--version and -V answer as yargs does, before yargs is loaded', async () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const argv of [['--version'], ['-V'], ['--json', '--version']]) {
    const r = await runBin(argv);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, `${pkg.version}\n`, ''], argv.join(' '));
  }
});

test('--version into a closed pipe exits 141, quietly, as every command does', async () => {
  const child = spawn(process.execPath, [BIN, '--version'], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Closed long before Node has started in the child: its one write finds no reader.
  child.stdout.destroy();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const [code] = (await once(child, 'close')) as [number | null];
  assert.equal(code, 141, stderr);
  assert.equal(stderr, '');
});

const isIpTitle =
  'IPv4 and name targets are parsed without net.isIP, whose IPv6 pattern costs milliseconds on first use';
test(isIpTitle, async () => {
  const net = (await import('node:module')).createRequire(import.meta.url)('node:net') as typeof import('node:net');
  const { syncBuiltinESMExports } = await import('node:module');
  const real = net.isIP;
  const seen: string[] = [];
  // An IPv4 address is matched before the IPv6 pattern is reached; any other text reaches it.
  net.isIP = (text: string) => {
    if (!net.isIPv4(text)) seen.push(text);
    return real(text);
  };
  syncBuiltinESMExports();
  try {
    const { formatTarget, parseTarget } = await import('../src/input/target.js');
    const ipv6 = parseTarget('[::1]:1863');
    assert.ok(seen.includes('::1'), 'an IPv6 literal still goes to net.isIP');
    seen.length = 0;
    for (const text of ['127.0.0.1:1863', '127.0.0.1', 'msnp://127.0.0.1:1863', 'name.invalid:1863', 'name.invalid']) {
      assert.equal(formatTarget(parseTarget(text)).startsWith('['), false);
    }
    assert.deepEqual(seen, []);
    assert.equal(formatTarget(ipv6), '[::1]:1863');
    assert.deepEqual(parseTarget('::1'), { host: '::1', port: 1863 });
  } finally {
    net.isIP = real;
    syncBuiltinESMExports();
  }
});

/** Node's built-in modules a command loaded, by name (`dns/promises`, `worker_threads`...), as it exits. */
async function builtinsLoadedBy(args: string[]): Promise<{ loaded: string[]; code: number | null; stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'msnp-startup-'));
  const preload = join(dir, 'loaded.cjs');
  const out = join(dir, 'loaded.json');
  await writeFile(
    preload,
    `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, ` +
      'JSON.stringify(process.moduleLoadList)));\n',
  );
  try {
    // Quoted: NODE_OPTIONS splits at spaces, and a temporary directory may have one.
    const r = await runBin(args, { env: { NODE_OPTIONS: `--require ${JSON.stringify(preload)}` } });
    const list = JSON.parse(readFileSync(out, 'utf8')) as string[];
    const loaded = list.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length));
    return { loaded, code: r.code, stderr: r.stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const noDnsTitle =
  'a probe of an address loads neither node:dns (it reads /etc/resolv.conf), node:assert nor BlockList';
test(noDnsTitle, async () => {
  // Every connection is closed at once: the probe runs its whole path, resolution included.
  const server = createServer((socket) => socket.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const { loaded, code, stderr } = await builtinsLoadedBy([`127.0.0.1:${port}`, '-r', '2-3', '--json']);
    assert.ok(code === 0 || code === 3, `exit ${code}: ${stderr}`);
    assert.ok(loaded.includes('net'), 'the list is the real one');
    assert.deepEqual(
      loaded.filter((m) => m === 'dns' || m === 'dns/promises'),
      [],
    );
    // yargs' shim checked its invariants with node:assert, whose AssertionError alone costs a millisecond.
    assert.ok(!loaded.includes('assert'), 'node:assert is loaded');
    // --follow's address classes are built on first use: a probe that follows no redirect never asks.
    assert.ok(!loaded.includes('internal/blocklist'), 'BlockList is loaded');
  } finally {
    server.close();
  }
});

test("the parser reads nothing in the user's working directory: not its listing, not its package.json", async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'msnp-cwd-'));
  const preload = join(cwd, 'record.cjs');
  const out = join(cwd, 'read.json');
  // A project of the user's, in the directory they run the probe from.
  await writeFile(join(cwd, 'package.json'), '{"name": "users-project", "version": "9.9.9"}\n');
  await writeFile(
    preload,
    [
      "const fs = require('node:fs');",
      'const seen = [];',
      "for (const name of ['readdirSync', 'readFileSync', 'statSync', 'existsSync']) {",
      '  const real = fs[name];',
      '  fs[name] = function (path, ...rest) { seen.push(String(path)); return real.call(this, path, ...rest); };',
      '}',
      `process.on('exit', () => fs.writeFileSync(${JSON.stringify(out)}, JSON.stringify(seen)));`,
      '',
    ].join('\n'),
  );
  const server = createServer((socket) => socket.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const child = spawn(process.execPath, ['--require', preload, BIN, `127.0.0.1:${port}`, '-r', '2-3', '--json'], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const [code] = (await once(child, 'close')) as [number | null];
    assert.ok(code === 0 || code === 3, `exit ${code}`);
    assert.equal((JSON.parse(stdout) as { targets: unknown[] }).targets.length, 1);
    const read = JSON.parse(readFileSync(out, 'utf8')) as string[];
    assert.ok(read.length > 0, 'the reads are recorded');
    const paths = read.map((path) => (path.startsWith('file:') ? fileURLToPath(path) : path));
    assert.deepEqual(
      paths.filter((path) => path === cwd || path.startsWith(`${cwd}/`)),
      [],
    );
  } finally {
    server.close();
    await rm(cwd, { recursive: true, force: true });
  }
});
