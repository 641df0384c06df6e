import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, plainEnv } from './helpers.js';

const run = promisify(execFile);

/** FORCE_COLOR, if the shell running the tests exports it, would colour what console.log prints below. */
const plain = plainEnv();

test('the npm pack tarball installs into an empty directory and runs', { timeout: 180_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'msnp-probe-pack-'));
  try {
    // --ignore-scripts: dist/ is already built by `npm test`; rebuilding here would race other test files.
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
      cwd: ROOT,
    });
    const [info] = JSON.parse(stdout) as [{ filename: string; files: { path: string }[] }];
    const paths = info.files.map((f) => f.path);
    assert.ok(paths.includes('bin/msnp-probe.js') && paths.includes('dist/cli.mjs'));
    assert.ok(
      paths.some((p) => p.startsWith('dist/cli-chunks/')),
      'the CLI bundle ships its chunks',
    );
    assert.ok(paths.includes('dist/src/index.js') && paths.includes('dist/src/index.d.ts'));
    assert.ok(paths.includes('docs/schema/report.schema.json'));
    assert.ok(
      !paths.some((p) => p.startsWith('dist/test/') || p.startsWith('src/') || p.startsWith('test/')),
      'only the files whitelist ships',
    );
    const app = join(dir, 'app');
    await run('mkdir', ['-p', app]);
    await writeFile(join(app, 'package.json'), '{"name":"app","version":"1.0.0","private":true,"type":"module"}\n');
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, info.filename)], {
      cwd: app,
    });
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const version = await run(join(app, 'node_modules', '.bin', 'msnp-probe'), ['--version'], { cwd: app });
    assert.equal(version.stdout.trim(), pkg.version);
    // `profiles` runs code that the CLI loads on demand, from a chunk of its own: it must ship too.
    const profiles = await run(join(app, 'node_modules', '.bin', 'msnp-probe'), ['profiles'], { cwd: app });
    assert.match(profiles.stdout, /escargot/);
    // Help is laid out by a file the CLI requires only then (dist/cli-chunks/help-text.cjs): it must ship too.
    const help = await run(join(app, 'node_modules', '.bin', 'msnp-probe'), ['--help'], { cwd: app });
    assert.match(help.stdout, /^Options:$/m);
    const lib = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { probe, startEmulator, parseRange } from 'msnp-probe'; " +
          "console.log(typeof probe, typeof startEmulator, parseRange('8-9').join())",
      ],
      { cwd: app, env: plain },
    );
    assert.equal(lib.stdout.trim(), 'function function 8,9');
    const subpaths = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { LineReader } from 'msnp-probe/codec'; import { EmulatorSession } from 'msnp-probe/emulator'; " +
          "import { FORMATS } from 'msnp-probe/report'; import { SIGNATURES } from 'msnp-probe/fingerprint'; " +
          'console.log(typeof LineReader, typeof EmulatorSession, Object.keys(FORMATS).join(), SIGNATURES.length > 0)',
      ],
      { cwd: app, env: plain },
    );
    assert.equal(subpaths.stdout.trim(), 'function function table,json,ndjson,csv,svg true');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
