import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { BIN, runBin } from './helpers.js';
import { startEmulator, type Emulator } from '../src/emulator/server.js';

/**
 * The real CLI on a pseudo-terminal of a given width: util-linux `script`, else python3's pty
 * module. Both are on the CI machines; without either the tests say why they skip.
 */
const PY_PTY = `
import fcntl, os, pty, struct, subprocess, sys, termios
cols = int(sys.argv[1])
master, slave = pty.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', 40, cols, 0, 0))
child = subprocess.Popen(sys.argv[2:], stdin=slave, stdout=slave, stderr=slave, close_fds=True)
os.close(slave)
out = b''
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
child.wait()
sys.stdout.buffer.write(out)
sys.exit(child.returncode)
`;

function has(command: string, args: string[]): boolean {
  const r = spawnSync(command, args, { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}
const SCRIPT = has('script', ['-V']);
const PYTHON = !SCRIPT && has('python3', ['-c', 'import pty, fcntl, termios']);
const NO_PTY = SCRIPT || PYTHON ? false : 'neither util-linux script nor python3 (pty module) is installed';

const quote = (arg: string): string => `'${arg.replaceAll("'", "'\\''")}'`;

/** Everything the CLI wrote to the terminal (stdout and stderr, as a user sees them). */
function onTerminal(cols: number, args: string[], env: Record<string, string> = {}): Promise<string> {
  const childEnv: Record<string, string | undefined> = { ...process.env, TERM: 'xterm', ...env };
  for (const name of ['COLUMNS', 'FORCE_COLOR', 'NO_COLOR']) if (!(name in env)) delete childEnv[name];
  const argv = [process.execPath, BIN, ...args];
  const [command, commandArgs] = SCRIPT
    ? ['script', ['-qec', `stty cols ${cols} rows 40; exec ${argv.map(quote).join(' ')}`, '/dev/null']]
    : ['python3', ['-c', PY_PTY, String(cols), ...argv]];
  return new Promise((resolve, reject) => {
    const child = spawn(command as string, commandArgs as string[], {
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

/** Columns a line takes on screen: colours and line clearing take none, wide characters two. */
function screenWidth(line: string): number {
  const visible = line.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  let n = 0;
  for (const ch of visible) {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x20 || (code >= 0x7f && code < 0xa0) || /\p{M}/u.test(ch)) continue;
    const wide =
      (code >= 0x1100 && code <= 0x115f) ||
      (code >= 0x2e80 && code <= 0xa4cf) ||
      (code >= 0xac00 && code <= 0xd7a3) ||
      (code >= 0xf900 && code <= 0xfaff) ||
      (code >= 0xfe30 && code <= 0xfe4f) ||
      (code >= 0xff00 && code <= 0xff60) ||
      (code >= 0xffe0 && code <= 0xffe6) ||
      (code >= 0x1f300 && code <= 0x1faff) ||
      (code >= 0x20000 && code <= 0x3fffd);
    n += wide ? 2 : 1;
  }
  return n;
}

/** Every screen line wider than `cols`: a carriage return starts a line over (the progress line does). */
function tooWide(output: string, cols: number): string[] {
  return output
    .split('\n')
    .flatMap((line) => line.split('\r'))
    .filter((line) => screenWidth(line) > cols)
    .map((line) => `${screenWidth(line)}: ${line}`);
}

describe('on an 80-column terminal no line is wider than 80', { skip: NO_PTY }, () => {
  const emulators: Emulator[] = [];
  before(async () => {
    for (const profile of ['msn-2007', 'escargot', 'msn-2003']) {
      emulators.push(await startEmulator({ profile, host: '127.0.0.1', port: 0, dispatch: false }));
    }
  });
  after(async () => {
    await Promise.all(emulators.map((e) => e.close()));
  });
  const targets = (): string[] => emulators.map((e) => `127.0.0.1:${e.port}`);

  const cases: [string, () => string[], RegExp][] = [
    ['demo', () => ['demo'], /accepts MSNP8-MSNP16/],
    ['demo --deep', () => ['demo', '--deep'], /confirmed/],
    ['demo --deep --fingerprint --verbose', () => ['demo', '--deep', '--fingerprint', '--verbose'], /fingerprint:/],
    ['demo --profile escargot --deep', () => ['demo', '--profile', 'escargot', '--deep'], /prefers MSNP18/],
    ['a matrix of several emulators', () => targets(), /3 targets, 3 answered as MSNP/],
    ['a matrix with --fingerprint', () => [...targets(), '--fingerprint'], /implementation/],
    ['a matrix of MSNP1-99', () => [...targets(), '--range', '1-99'], /legend:/],
    ['profiles', () => ['profiles'], /escargot@YYYY-MM-DD/],
    [
      'a matrix with an unmet --expect',
      () => [...targets(), '--range', '2-40', '--expect', '2-5,7,9,11,13,15,17,19,21,23,25,27,29,31,33,35'],
      /expectation NOT met/,
    ],
  ];
  for (const [what, args, expected] of cases) {
    test(what, async () => {
      const output = await onTerminal(80, args());
      assert.match(output, expected, output);
      assert.deepEqual(tooWide(output, 80), [], output);
    });
  }
  test('the reply column is shortened with an ellipsis, not dropped', async () => {
    const output = await onTerminal(80, ['demo']);
    const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
    assert.match(plain, /│ offer +│ prefers MSNP16 │ VER 1 MSNP16 MSNP15 [^│]*… │/);
  });
});

describe('width and colour on a pipe', () => {
  test('a pipe without COLUMNS: lines as long as their content', async () => {
    const r = await runBin(['profiles']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(tooWide(r.stdout, 80).length > 0, 'profiles keeps its long lines on a pipe');
  });
  test('a pipe with COLUMNS=60: fitted to 60', async () => {
    const r = await runBin(['profiles'], { env: { COLUMNS: '60' } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(tooWide(r.stdout, 60), []);
  });
  test('FORCE_COLOR=1 colours a pipe, FORCE_COLOR=0 does not', async () => {
    const on = await runBin(['demo', '--range', '8-9'], { env: { FORCE_COLOR: '1' } });
    assert.match(on.stdout, /\x1b\[32maccepted/);
    const off = await runBin(['demo', '--range', '8-9'], { env: { FORCE_COLOR: '0' } });
    assert.doesNotMatch(off.stdout, /\x1b\[/);
  });
  test('TERM=dumb: no colour on a terminal', { skip: NO_PTY }, async () => {
    const dumb = await onTerminal(80, ['demo', '--range', '8-9'], { TERM: 'dumb' });
    assert.doesNotMatch(dumb, /\x1b\[3\dm/);
    const xterm = await onTerminal(80, ['demo', '--range', '8-9']);
    assert.match(xterm, /\x1b\[32maccepted/);
  });
});
