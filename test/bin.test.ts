import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers.js';

test('a package that was never built says so in one line and exits 4, with no stack trace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'msnp-nobuild-'));
  try {
    cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    const r = spawnSync(process.execPath, [join(dir, 'bin', 'msnp-probe.js'), 'demo'], { encoding: 'utf8' });
    assert.equal(r.status, 4);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      'msnp-probe: the build is missing (dist/cli.mjs); run `npm run build` in the package first\n',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
