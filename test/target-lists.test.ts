/**
 * Target lists that are not lists, through the real executable: an endless device, a line that
 * never ends on standard input, a list that fails while being read. Each stops with one line on
 * stderr and exit 2 (a usage error), never a hang, a memory climb or exit 4.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BIN, runBin } from './helpers.js';

function assertUsageLine(r: { code: number | null; stdout: string; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0] ?? '', pattern);
}

describe('--targets that is not a list', () => {
  test('/dev/zero: binary data, exit 2', async () => {
    const r = await runBin(['--targets', '/dev/zero', '-r', '8', '--no-offer'], { timeoutMs: 60_000 });
    assertUsageLine(r, /^msnp-probe: target list line 1: a NUL byte/);
  });

  const noProcMem = !existsSync('/proc/self/mem');
  test('a read error after open (/proc/self/mem: EIO) is a usage error, not exit 4', { skip: noProcMem }, async () => {
    const r = await runBin(['--targets', '/proc/self/mem', '-r', '8', '--no-offer'], { timeoutMs: 60_000 });
    assertUsageLine(r, /^msnp-probe: --targets: cannot read '\/proc\/self\/mem': EIO/);
  });

  test('standard input that never ends its line: stops after MAX_SKIPPED_LINE, exit 2', async () => {
    const args = [BIN, '--targets', '-', '-r', '8', '--no-offer'];
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.on('error', () => undefined);
    const block = Buffer.alloc(64 * 1024, 'y');
    let fed = 0;
    const feed = (): void => {
      // Feed as fast as it reads, never more than 64 MiB (a reader that never stops would hit that).
      while (fed < 1024 && !child.stdin.destroyed) {
        fed++;
        if (!child.stdin.write(block)) {
          child.stdin.once('drain', feed);
          return;
        }
      }
      child.stdin.end();
    };
    feed();
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    clearTimeout(timer);
    assertUsageLine({ code, stdout, stderr }, /^msnp-probe: target list line 1: no line end within/);
    assert.ok(fed < 1024, `fed ${fed} blocks: the reader never stopped`);
  });
});
