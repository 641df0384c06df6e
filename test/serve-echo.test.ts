/** `serve` echoes its `--fault` specs: command-line text is escaped like text from the network. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { BIN } from './helpers.js';

test('serve --fault with control characters around a valid spec: echoed escaped, never raw', async () => {
  // trim() accepts these around the mode, so the spec is valid and reaches the echo.
  const spec = '\r\x0b\f\u2028close\u00a0';
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--fault', spec, '--fault', '13:reset'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  await new Promise<void>((resolve) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) resolve();
    });
    child.on('close', () => resolve());
  });
  // One answered connection shows the serve loop (and its SIGINT handler) is running.
  const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
  await new Promise<void>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write('VER 1 MSNP8 CVR0\r\n'));
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.resume();
  });
  child.kill('SIGINT');
  const code = await new Promise((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  assert.equal(code, 0, err);
  const first = out.split('\n')[0] ?? '';
  assert.match(first, /faults \\r\\x0b\\x0c\\u\{2028\}close\\xa0 13:reset\)/);
  assert.doesNotMatch(out, /[\r\x0b\f\u2028\u00a0]/, 'no raw control character on stdout');
});
