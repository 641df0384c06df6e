import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, runBin, withEmulator } from './helpers.js';

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('exporter usage errors are one line and exit 2', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'msnp-exporter-'));
  try {
    const bad = join(dir, 'bad.yml');
    await writeFile(bad, 'modules:\n  a:\n    range: 30-20\n');
    const cases: [string[], RegExp][] = [
      [['exporter', '--listen', '127.0.0.1:0'], /nothing may be probed: give --allow/],
      [['exporter', '--listen', '127.0.0.1:70000', '--allow', '127.0.0.1'], /--listen: port 70000/],
      [['exporter', '--listen', 'bad host:1', '--allow', '127.0.0.1'], /--listen: /],
      [['exporter', '--listen', '127.0.0.1:0', '--allow', '127.0.0.1/40'], /--allow: allow '127\.0\.0\.1\/40': prefix/],
      [['exporter', '--listen', '127.0.0.1:0', '--config', join(dir, 'missing.yml')], /--config: cannot read .*ENOENT/],
      [['exporter', '--listen', '127.0.0.1:0', '--config', bad], /module 'a': range: .*reversed/],
      [['exporter', '--listen', '127.0.0.1:0', '--allow', '127.0.0.1', '--max-probes', '0'], /--max-probes/],
      [['exporter', 'extra'], /exporter: unexpected argument/],
    ];
    for (const [args, message] of cases) {
      const r = await runBin(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.ok(!r.stderr.includes('    at '), 'no stack trace');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the exporter command serves scrapes from a config and stops cleanly on SIGTERM', async () => {
  await withEmulator({ profile: 'escargot' }, async (emulator) => {
    const dir = await mkdtemp(join(tmpdir(), 'msnp-exporter-'));
    const config = join(dir, 'exporter.yml');
    await writeFile(config, `modules:\n  eight:\n    range: 8\n    targets: ["127.0.0.1:${emulator.port}"]\n`);
    const child = spawn(process.execPath, [BIN, 'exporter', '--listen', '127.0.0.1:0', '--config', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let stdout = '';
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          stdout += d;
          const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(stdout);
          if (m) resolve(Number(m[1]));
        });
        child.on('exit', () => reject(new Error(`exited early: ${stderr}`)));
      });
      assert.match(stdout, /1 module, 1 allowed target entry, 4 probes at once/);
      const probe = await get(port, `/probe?module=eight&target=127.0.0.1:${emulator.port}`);
      assert.equal(probe.status, 200);
      assert.match(probe.body, /^msnp_version_accepted\{version="8"\} 1$/m);
      assert.equal((await get(port, `/probe?target=127.0.0.1:${emulator.port + 1}`)).status, 403);
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.match(stdout, /stopped \(SIGTERM\)/);
      assert.equal(stderr, '');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
