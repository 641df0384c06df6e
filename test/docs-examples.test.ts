import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { STATUS_MARKS } from '../src/report/render/matrix.js';
import { BIN, ROOT, hasIpv6Loopback, plainEnv, runBin } from './helpers.js';

/**
 * Every example of the README and docs/ runs here, through the real bin, so the docs cannot drift
 * from the program. Hosts that are not loopback are replaced by an emulator on loopback before
 * anything runs, and a preloaded guard ends any process that still tries to reach further.
 */

const run = promisify(execFile);

/** A file of the checkout as an import specifier: a URL, since a bare path breaks on `#`, `%` or `?` in it. */
const fileUrl = (relative: string): string => pathToFileURL(`${ROOT}${relative}`).href;

const DOCS = [
  'README.md',
  ...readdirSync(`${ROOT}docs`)
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const TEXT = new Map(DOCS.map((file) => [file, readFileSync(`${ROOT}${file}`, 'utf8')]));
const readme = TEXT.get('README.md') ?? '';

/** Examples that cannot run here, each with the reason; a new example is run, or added here. */
const SKIPPED: Readonly<Record<string, string>> = {
  "parallel msnp-probe --targets list.txt --shard {}/4 --ndjson '>' shard-{}.ndjson ::: 1 2 3 4":
    'needs GNU parallel; the same four shards are prepared by this test and merged by the next lines',
};

/** Producers that feed an example's pipe, replaced by prepared input: no scanner runs here. */
const PRODUCERS: Readonly<Record<string, string>> = {
  'masscan -p1863 192.0.2.0/24 -oL -': 'cat masscan.txt',
};

interface Block {
  file: string;
  lang: string;
  body: string;
}

function blocks(): Block[] {
  const out: Block[] = [];
  for (const [file, text] of TEXT) {
    for (const m of text.matchAll(/^```(\w*)\n([\s\S]*?)^```/gm))
      out.push({ file, lang: m[1] ?? '', body: m[2] ?? '' });
  }
  return out;
}

/** The command part of a shell line: a trailing `# comment` (after whitespace, outside quotes) dropped. */
function stripComment(line: string): string {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1] ?? ''))) return line.slice(0, i).trimEnd();
  }
  return line.trimEnd();
}

/** Whether some command of the line runs msnp-probe (possibly after VAR=value, npx or a wrapper). */
function runsMsnpProbe(line: string): boolean {
  return line
    .split(/\||&&|;/)
    .some((segment) => /^\s*(?:[A-Z_]+=\S*\s+)*(?:npx\s+|parallel\s+|xargs\s+)?msnp-probe(?:\s|$)/.test(segment));
}

interface Example {
  file: string;
  line: string;
  /** Output lines a transcript (`$ command`, then its output) shows; `...` elides. */
  shows: string[];
}

function examples(): Example[] {
  const out: Example[] = [];
  for (const block of blocks()) {
    const lines = block.body.split('\n');
    lines.forEach((raw, i) => {
      // Shell blocks hold commands; transcripts in other blocks mark theirs with a `$ ` prompt.
      const prompt = /^\$ /.test(raw);
      if (block.lang !== 'sh' && !prompt) return;
      const line = stripComment(raw.replace(/^\$ /, ''));
      if (!runsMsnpProbe(line)) return;
      const next = lines.slice(i + 1);
      const end = next.findIndex((l) => /^\$ /.test(l));
      const shows = prompt ? next.slice(0, end < 0 ? undefined : end).filter((l) => l.trim() && l !== '...') : [];
      out.push({ file: block.file, line, shows });
    });
  }
  return out;
}

const FILE_EXT = /\.(?:txt|json|ndjson|ya?ml|svg|csv|md)$/i;
const LOOPBACK_V4 = /^127(?:\.\d{1,3}){3}$/;

interface Ports {
  v4: number;
  v6: number | null;
}

/** One target written in an example, moved to the emulator: non-loopback hosts and port 1863 go. */
function localTarget(token: string, ports: Ports): string | null {
  const m = /^(msnp:\/\/)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(\/\d{1,3})?(?::(\d+))?$/.exec(token);
  if (!m || FILE_EXT.test(token)) return null;
  const host = m[2] ?? '';
  const block = m[3] ?? '';
  const isName = /[A-Za-z]/.test(host) && /\.[A-Za-z]{2,}$/.test(host) && !host.startsWith('[');
  const isV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/.test(host);
  if (!isName && !isV4 && !host.startsWith('[')) return null;
  if (host.endsWith('.invalid')) return token;
  if (LOOPBACK_V4.test(host)) return `${host}${block}:${ports.v4}`;
  if (host === '[::1]' && ports.v6 !== null) return `[::1]:${ports.v6}`;
  return `127.0.0.1:${ports.v4}`;
}

const LONG_RUNNING = new Set(['serve', 'exporter']);
const NOT_TARGETS = new Set(['merge', 'demo', 'profiles', 'completion', 'serve', 'exporter']);

/** The example as it runs here: same command and flags, but loopback targets and free ports. */
export function localise(line: string, ports: Ports): string {
  let shell = line;
  for (const [producer, local] of Object.entries(PRODUCERS)) shell = shell.replace(producer, local);
  return shell
    .split('|')
    .map((segment) => {
      const words = segment.trim().split(/\s+/);
      const at = words.indexOf('msnp-probe');
      if (at < 0) return segment;
      const command = words[at + 1] ?? '';
      const out = words.slice(0, at + 1);
      const hasPort = words.includes('--port') || words.includes('-p');
      for (let i = at + 1; i < words.length; i++) {
        const word = words[i] ?? '';
        const prev = words[i - 1] ?? '';
        if (/^\d?>>?$|^<$/.test(prev)) out.push(word);
        else if (prev === '--port' || prev === '-p') out.push(LONG_RUNNING.has(command) ? '0' : String(ports.v4));
        else if (prev === '--listen') out.push('127.0.0.1:0');
        else if (prev === '--host') {
          const local = localTarget(word, ports);
          out.push(local === null ? word : (local.split(':')[0] ?? ''));
          if (!hasPort) out.push('--port', String(ports.v4));
        } else if (word.startsWith('-') || prev.startsWith('--') || NOT_TARGETS.has(command)) out.push(word);
        else out.push(localTarget(word, ports) ?? word);
      }
      if (command === 'exporter' && !words.includes('--listen')) out.push('--listen', '127.0.0.1:0');
      if (command === 'serve' && !hasPort) out.push('--port', '0');
      return out.join(' ');
    })
    .join(' | ');
}

/** Ends the process, loudly, before it sends a byte or a DNS query anywhere but loopback. */
const GUARD = `
import net from 'node:net';
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';
const loopback = (h) => /^127\\./.test(h) || h === '::1' || h === '[::1]' || /^::ffff:127\\./.test(h);
const stop = (what) => {
  process.stderr.write('DOCS-EXAMPLE NETWORK GUARD: ' + what + '\\n');
  process.exit(97);
};
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (first !== null && typeof first === 'object') {
    if (first.path === undefined && !loopback(String(first.host ?? 'localhost'))) stop('connect ' + first.host);
  } else if (typeof first !== 'string' && !loopback(typeof args[1] === 'string' ? args[1] : 'localhost')) {
    stop('connect ' + args[1]);
  }
  return connect.apply(this, args);
};
const lookup = (name) => { if (!net.isIP(name)) stop('lookup ' + name); };
const cbLookup = dns.lookup;
dns.lookup = function (name, ...rest) { lookup(name); return cbLookup.call(this, name, ...rest); };
const promised = dns.promises.lookup;
dns.promises.lookup = function (name, ...rest) { lookup(name); return promised.call(this, name, ...rest); };
for (const m of ['resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveSrv', 'resolveTxt']) {
  dns[m] = () => stop(m);
  dns.promises[m] = () => stop(m);
  dns.Resolver.prototype[m] = () => stop(m);
  dns.promises.Resolver.prototype[m] = () => stop(m);
}
syncBuiltinESMExports();
`;

interface Sandbox {
  dir: string;
  env: Record<string, string | undefined>;
  ports: Ports;
}

async function sandbox(emulator: Emulator, v6: Emulator | null): Promise<Sandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'msnp-probe-docs-'));
  const bin = join(dir, 'bin');
  await run('mkdir', ['-p', bin]);
  await writeFile(join(bin, 'msnp-probe'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  await chmod(join(bin, 'msnp-probe'), 0o755);
  await writeFile(join(dir, 'guard.mjs'), GUARD);
  const env = plainEnv({
    PATH: `${bin}:${process.env['PATH'] ?? ''}`,
    // A URL: NODE_OPTIONS splits at spaces, and a temporary directory may have one.
    NODE_OPTIONS: `--import=${pathToFileURL(join(dir, 'guard.mjs')).href}`,
    npm_config_offline: 'true',
  });
  const ports = { v4: emulator.port, v6: v6?.port ?? null };
  const target = `127.0.0.1:${ports.v4}`;
  const list = `# prepared by the docs test\n${target}\n127.0.0.1:${ports.v4} # again\n`;
  for (const name of ['servers.txt', 'list.txt', 'big.txt']) await writeFile(join(dir, name), list);
  await writeFile(join(dir, 'masscan.txt'), `open tcp ${ports.v4} 127.0.0.1 1690000000\n`);
  const yaml = /```yaml\n([\s\S]*?)```/.exec(TEXT.get('docs/EXPORTER.md') ?? '')?.[1];
  assert.ok(yaml, 'EXPORTER.md has a config example');
  await writeFile(join(dir, 'exporter.yml'), yaml);
  const sh = (cmd: string) => run('sh', ['-c', cmd], { cwd: dir, env });
  await sh(`msnp-probe ${target} --range 8-21 --json > report.json || true`);
  await sh(`msnp-probe ${target} --range 8-21 --json > today.json || true`);
  await sh(`msnp-probe ${target} --range 8-21 --ndjson > run.ndjson || true`);
  for (const i of [1, 2, 3, 4]) {
    await sh(`msnp-probe --targets list.txt --range 8-21 --shard ${i}/4 --ndjson > shard-${i}.ndjson || true`);
  }
  return { dir, env, ports };
}

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs one command line in `sh`; a server is stopped with SIGINT once it says it listens. */
function runLine(line: string, box: Sandbox, cwd: string, longRunning: boolean): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', longRunning ? `exec ${line}` : line], {
      cwd,
      env: box.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let stopped = false;
    const listening = () => {
      const at = /listening on (http:\/\/)?(127\.0\.0\.1|\[::1\]):(\d+)/.exec(stdout + stderr);
      if (!longRunning || stopped || !at) return;
      stopped = true;
      // A reply proves the server's event loop has turned since it announced itself, so its
      // SIGINT handler is in place: a signal sent on the announcement alone could come first.
      const socket = connect(Number(at[3]), (at[2] ?? '').replace(/[[\]]/g, ''));
      socket.on('error', () => child.kill('SIGINT'));
      socket.once('data', () => {
        socket.destroy();
        child.kill('SIGINT');
      });
      socket.write(at[1] ? 'GET / HTTP/1.0\r\n\r\n' : 'VER 1 MSNP8 CVR0\r\n');
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      listening();
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      listening();
    });
    // Generous: only a hang trips it, never a slow but honest run on a loaded machine.
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

test('every msnp-probe example of the README and docs/ runs through the real bin', { timeout: 900_000 }, async (t) => {
  const all = examples();
  assert.ok(all.length >= 20, `found ${all.length} examples`);
  assert.ok(
    all.some((e) => e.file === 'README.md') && all.some((e) => e.file === 'docs/USAGE.md'),
    'the README and USAGE.md both have examples',
  );
  for (const line of Object.keys(SKIPPED)) {
    assert.ok(
      all.some((e) => e.line === line),
      `skipped example no longer in the docs: ${line}`,
    );
  }
  const emulator = await startEmulator({ profile: 'escargot', host: '127.0.0.1', port: 0 });
  const v6 = (await hasIpv6Loopback()) ? await startEmulator({ profile: 'escargot', host: '::1', port: 0 }) : null;
  const box = await sandbox(emulator, v6);
  try {
    for (const example of all) {
      const reason = SKIPPED[example.line];
      if (reason !== undefined) {
        t.diagnostic(`skipped (${example.file}): ${example.line}: ${reason}`);
        continue;
      }
      const line = localise(example.line, box.ports);
      const words = line.split(/\s+/);
      const command = words[words.indexOf('msnp-probe') + 1] ?? '';
      const longRunning = LONG_RUNNING.has(command);
      // npx resolves the package's own bin only inside the package; --offline keeps the registry out.
      const cwd = /^npx /.test(line) ? ROOT : box.dir;
      const r = await runLine(line, box, cwd, longRunning);
      const where = `${example.file}: ${example.line}\n  ran: ${line}\n  exit ${r.code} ${r.signal ?? ''}\n${r.stderr}`;
      t.diagnostic(`${example.file}: ${line}: exit ${r.code ?? r.signal}`);
      assert.doesNotMatch(r.stderr, /NETWORK GUARD/, where);
      if (longRunning) assert.equal(r.code, 0, `a server stops with 0 on SIGINT: ${where}`);
      else assert.ok(r.code === 0 || r.code === 1 || r.code === 3, `exit 0, 1 or 3: ${where}`);
      assert.doesNotMatch(r.stderr, /\n\s+at .*:\d+:\d+/, `no stack trace: ${where}`);
      for (const shown of example.shows) assert.ok(r.stdout.includes(shown), `prints '${shown}': ${where}`);
    }
  } finally {
    await rm(box.dir, { recursive: true, force: true });
    await emulator.close();
    await v6?.close();
  }
});

test('localise moves every host that is not loopback, and port 1863, to the emulator', () => {
  const ports = { v4: 4000, v6: 4001 };
  assert.equal(
    localise('msnp-probe --host messenger.hotmail.com --range 7-21', ports),
    'msnp-probe --host 127.0.0.1 --port 4000 --range 7-21',
  );
  assert.equal(localise('msnp-probe messenger.hotmail.com:1863 --json', ports), 'msnp-probe 127.0.0.1:4000 --json');
  assert.equal(localise('msnp-probe [::1]:1863 --expect 2-21', ports), 'msnp-probe [::1]:4001 --expect 2-21');
  assert.equal(localise('msnp-probe 127.0.0.0/30:1863 --range 15', ports), 'msnp-probe 127.0.0.0/30:4000 --range 15');
  assert.equal(
    localise('msnp-probe --targets servers.txt --json > today.json', ports),
    'msnp-probe --targets servers.txt --json > today.json',
  );
  assert.equal(
    localise('msnp-probe serve --profile escargot --port 1863', ports),
    'msnp-probe serve --profile escargot --port 0',
  );
  assert.equal(
    localise('msnp-probe exporter --listen 0.0.0.0:9863 --allow msnp.example.org', ports),
    'msnp-probe exporter --listen 127.0.0.1:0 --allow msnp.example.org',
  );
  assert.equal(
    localise('msnp-probe badge 10.1.2.3:1863 > msnp.svg', ports),
    'msnp-probe badge 127.0.0.1:4000 > msnp.svg',
  );
});

test("npx msnp-probe and npm link run the clone's own bin, with no registry", { timeout: 180_000 }, async () => {
  const pkg = JSON.parse(await readFile(`${ROOT}package.json`, 'utf8')) as { version: string };
  const env = { ...process.env, npm_config_offline: 'true' };
  const npx = await run('npx', ['msnp-probe', '--version'], { cwd: ROOT, env });
  assert.equal(npx.stdout.trim(), pkg.version);
  const prefix = await mkdtemp(join(tmpdir(), 'msnp-probe-link-'));
  try {
    // --ignore-scripts: the prepare script would rebuild dist/ under the other test files.
    await run('npm', ['link', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: ROOT,
      env: { ...env, npm_config_prefix: prefix },
    });
    assert.ok((await readdir(join(prefix, 'bin'))).includes('msnp-probe'));
    const linked = await run(join(prefix, 'bin', 'msnp-probe'), ['--version'], { env });
    assert.equal(linked.stdout.trim(), pkg.version);
  } finally {
    await rm(prefix, { recursive: true, force: true });
  }
});

test('the README API example runs and prints what it says', async () => {
  const block = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, 'a js block');
  const code = block.replace("from 'msnp-probe'", `from '${fileUrl('dist/src/index.js')}'`);
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { env: plainEnv() });
  const expected = /console\.log\(.*\); \/\/ (.*)/.exec(block)?.[1];
  assert.equal(stdout.trim(), expected);
});

test('every js block of the docs imports only what the package exports', async () => {
  const subpaths: Record<string, string> = {
    'msnp-probe': 'dist/src/index.js',
    'msnp-probe/codec': 'dist/src/codec/index.js',
    'msnp-probe/emulator': 'dist/src/emulator/index.js',
    'msnp-probe/report': 'dist/src/report/index.js',
    'msnp-probe/fingerprint': 'dist/src/probe/fingerprint/index.js',
    'msnp-probe/exporter': 'dist/src/exporter/index.js',
  };
  const js = blocks().filter((b) => b.lang === 'js');
  assert.ok(js.length >= 3, `found ${js.length} js blocks`);
  for (const block of js) {
    // Only the imports: a block's body may start servers; that one runs in the README test above.
    const imports = block.body.split('\n').filter((l) => /^import .* from '/.test(l));
    const code = imports
      .map((l) => l.replace(/from '([^']+)'/, (_, spec: string) => `from '${fileUrl(subpaths[spec] ?? spec)}'`))
      .join('\n');
    await run(process.execPath, ['--input-type=module', '-e', code]).catch((e: Error) =>
      assert.fail(`${block.file}: ${imports.join('; ')}: ${e.message}`),
    );
  }
});

test('the demo sample in the README is what npm start prints, times and port aside', async () => {
  const sample = /it prints \(the port and the times vary\):\n\n```\n([\s\S]*?)```/i.exec(readme)?.[1];
  assert.ok(sample, 'the README shows the demo output');
  // --silent drops npm's own banner lines, which the README mentions but does not show.
  const demo = await run('npm', ['start', '--silent'], { cwd: ROOT, env: plainEnv({ npm_config_offline: 'true' }) });
  // The emulator's port is ephemeral, and the Time column depends on the machine.
  const normalise = (s: string) =>
    s
      .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT')
      .replace(/│[^│\n]*│$/gm, '│ TIME │')
      .replace(/([┌└])(─+[┬┴]─+[┬┴]─+[┬┴])─+([┐┘])$/gm, '$1$2─$3')
      .trimEnd();
  assert.equal(normalise(demo.stdout), normalise(sample));
  assert.match(readme, /^npm install && npm start .*\nnpm install && npm test /m, 'the two set-up commands come first');
});

test('every flag the docs name exists in --help', async () => {
  const commands = ['', 'serve', 'demo', 'merge', 'badge', 'exporter', 'profiles', 'completion'];
  let help = '';
  for (const command of commands) help += (await runBin(command ? [command, '--help'] : ['--help'])).stdout;
  // BENCHMARKS.md names the bench script's own flags; ARCHITECTURE.md names none.
  for (const file of DOCS.filter((f) => !/BENCHMARKS|ARCHITECTURE/.test(f))) {
    const flags = new Set([...(TEXT.get(file) ?? '').matchAll(/`(--[a-z][a-z0-9-]*)/g)].map((m) => m[1] ?? ''));
    assert.ok(file !== 'docs/USAGE.md' || flags.size > 30, `${file} names ${flags.size} flags`);
    for (const flag of flags) {
      const name = flag.replace(/^--no-/, '--');
      assert.ok(help.includes(name), `${file}: ${flag} is documented but not in --help`);
    }
  }
});

test("USAGE.md documents every flag of the probe command's --help", async () => {
  const help = (await runBin(['--help'])).stdout;
  const usage = TEXT.get('docs/USAGE.md') ?? '';
  const flags = [...help.matchAll(/^ {2}(?:-\w, )?\s*(--[a-z][a-z0-9-]*)/gm)].map((m) => m[1] ?? '');
  assert.ok(flags.length > 30, `found ${flags.length} flags in --help`);
  for (const flag of flags) {
    const no = flag.replace(/^--/, '--no-');
    assert.ok(usage.includes(`\`${flag}`) || usage.includes(`\`${no}`), `${flag} is in --help but not in USAGE.md`);
  }
});

test('the matrix legend in USAGE.md names every status mark', () => {
  const usage = TEXT.get('docs/USAGE.md') ?? '';
  const legend = /^legend: .*$/m.exec(usage)?.[0] ?? '';
  for (const [status, mark] of Object.entries(STATUS_MARKS)) {
    assert.ok(legend.includes(`${mark} ${status}`), `the sample legend shows ${mark} ${status}`);
    assert.ok(usage.includes(`\`${mark}\` ${status}`), `the matrix text explains ${mark} ${status}`);
  }
});

/** Every `properties` key anywhere under a schema node (allOf, if/then... included). */
function keys(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const n of node) keys(n, out);
  else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'properties' && v !== null && typeof v === 'object') for (const p of Object.keys(v)) out.add(p);
      keys(v, out);
    }
  }
  return out;
}

test('the JSON fields in USAGE.md agree with docs/schema/report.schema.json', async () => {
  type Schema = { properties: Record<string, unknown>; definitions: Record<string, unknown> };
  const schema = JSON.parse(await readFile(`${ROOT}docs/schema/report.schema.json`, 'utf8')) as Schema;
  const usage = TEXT.get('docs/USAGE.md') ?? '';
  const table = /\| field \| meaning \|\n\|---\|---\|\n((?:\|.*\n)+)/.exec(usage)?.[1];
  assert.ok(table, 'USAGE.md has the JSON field table');
  const documented = [...table.matchAll(/^\| ((?:`[^`]+`(?:, )?)+) \|/gm)].flatMap((m) =>
    [...(m[1] ?? '').matchAll(/`([^`]+)`/g)].map((f) => f[1] ?? ''),
  );
  const top = new Set(Object.keys(schema.properties));
  const target = new Set(Object.keys((schema.definitions['target'] as Schema).properties));
  const probe = keys([schema.definitions['probe'], schema.definitions['outcome']]);
  let scope = top;
  const seen = { top: new Set<string>(), target: new Set<string>() };
  for (const field of documented) {
    // `targets[].address`, then `.family`: a leading dot continues the previous scope.
    const m = /^(targets\[\]|probes\[\])?\.?([A-Za-z]+)(\[\])?$/.exec(field);
    assert.ok(m, `a field name: ${field}`);
    if (m[1] === 'targets[]') scope = target;
    else if (m[1] === 'probes[]') scope = probe;
    else if (!field.startsWith('.')) scope = top;
    const name = m[2] ?? '';
    if (scope === top && name === 'targets' && m[3]) continue;
    assert.ok(scope.has(name), `${field} is documented but not in the schema`);
    if (scope === top) seen.top.add(name);
    if (scope === target) seen.target.add(name);
  }
  for (const name of top) assert.ok(seen.top.has(name) || name === 'targets', `top-level ${name} is undocumented`);
  for (const name of target) assert.ok(seen.target.has(name), `targets[].${name} is undocumented`);
});
