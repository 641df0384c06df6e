/**
 * What --help says: examples for every subcommand (each one parses; demo's run), numeric options
 * labelled [number] while `5s` still parses, no doubled choices, the exit codes in full, and
 * `completion --help` as help rather than the script.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parse, COMMANDS } from '../src/cli/parser.js';
import { probePlan, servePlan } from '../src/cli/options.js';
import { main, EXIT } from '../src/cli/main.js';
import { fakeIo } from './helpers.js';

async function help(argv: string[]): Promise<string> {
  const r = await parse([...argv, '--help']);
  assert.equal(r.err, null);
  return r.output;
}

/** The example command lines of a help text, as argv (a `> file` redirection dropped). */
function examples(text: string): string[][] {
  const section = text.split('\nExamples:\n')[1]?.split('\n\n')[0] ?? '';
  return section
    .split('\n')
    .map((line) => /^ {2}msnp-probe (.+?)(?: {2,}|$)/.exec(line)?.[1])
    .filter((cmd): cmd is string => cmd !== undefined)
    .map((cmd) => cmd.replace(/ > \S+$/, '').split(' '));
}

describe('every subcommand has examples, and they are command lines that work', () => {
  for (const command of COMMANDS.filter((c) => c !== 'completion')) {
    test(`${command} --help`, async () => {
      const text = await help([command]);
      const found = examples(text);
      assert.ok(found.length > 0, `no examples in:\n${text}`);
      for (const argv of found) {
        assert.equal(argv[0], command, `an example of ${command}: ${argv.join(' ')}`);
        const r = await parse(argv);
        assert.equal(r.err, null, `${argv.join(' ')}: ${r.err?.message}`);
        if (command === 'serve') servePlan(r.args, 1863);
      }
    });
  }
  test('the examples of demo run against the in-process emulator: exit 0', { timeout: 120_000 }, async () => {
    const found = examples(await help(['demo']));
    assert.ok(found.length >= 3);
    for (const argv of found) {
      const io = fakeIo();
      assert.equal(await main(argv, io), EXIT.ok, `${argv.join(' ')}: ${io.err}`);
    }
  });
  test('completion --help prints help, not the script', async () => {
    const io = fakeIo();
    assert.equal(await main(['completion', '--help'], io), EXIT.ok);
    assert.match(io.out, /msnp-probe completion >> ~\/\.bashrc/);
    assert.doesNotMatch(io.out, /###-begin/);
    const script = fakeIo();
    assert.equal(await main(['completion'], script), EXIT.ok);
    assert.match(script.out, /###-begin-msnp-probe-completions-###/);
  });
});

describe('option types in help', () => {
  const rows: [string[], string[]][] = [
    [[], ['timeout', 'concurrency', 'global-concurrency', 'rate', 'retries', 'attempts', 'follow-max', 'port']],
    [['demo'], ['timeout', 'concurrency', 'delay', 'idle-timeout', 'max-connections', 'port']],
    [['serve'], ['delay', 'idle-timeout', 'max-connections', 'port']],
    [['badge'], ['timeout']],
    [['exporter'], ['max-probes']],
    [['merge'], ['port']],
  ];
  for (const [argv, options] of rows) {
    test(`${argv.join(' ') || '(probe)'}: numbers are [number]`, async () => {
      // One line per option: the wrapped description joined back onto it.
      const text = (await help(argv)).replace(/\n {20,}/g, ' ');
      for (const option of options) {
        const line = text.split('\n').find((l) => new RegExp(`--${option}\\s`).test(l));
        assert.ok(line, `--${option} listed`);
        assert.match(line, /\[number\]/, line);
      }
    });
  }
  test('numbers with a unit still parse: --timeout 5s, --delay 1.5s, --concurrency 08', async () => {
    const probe = await parse(['--timeout', '5s', '--concurrency', '08', 'x.invalid']);
    assert.equal(probe.err, null);
    const plan = probePlan(probe.args, ['x.invalid']);
    assert.equal(plan.scan.timeoutMs, 5000);
    assert.equal(plan.scan.concurrency, 8);
    const demo = await parse(['demo', '--delay', '1.5s', '--port', '0']);
    assert.equal(demo.err, null);
    assert.equal(servePlan(demo.args, 0).delayMs, 1500);
  });
  test('an option given without its value still says so', async () => {
    const r = await parse(['x.invalid', '--timeout']);
    assert.equal(r.err, null);
    assert.throws(() => probePlan(r.args, ['x.invalid']), /--timeout/);
  });
  test('demo lists the --transport choices once', async () => {
    const text = await help(['demo']);
    assert.match(text, /\[choices: "tcp", "http"\]/);
    assert.doesNotMatch(text, /"tcp", "http", "tcp"/);
  });
});

describe('the exit-code line', () => {
  for (const argv of [[], ['demo'], ['badge']]) {
    test(`${argv.join(' ') || '(probe)'} --help lists every exit code`, async () => {
      const text = (await help(argv)).replace(/\s+/g, ' ');
      const line = /Exit codes: (.*)$/.exec(text)?.[1] ?? '';
      for (const code of [
        '0 done',
        '1 --expect or --baseline not met',
        '2 usage error',
        '3 a target never answered',
        '4 internal error',
        '5 output could not be written',
        '6 this machine ran out of file descriptors or ports',
        '130/143 stopped by SIGINT/SIGTERM',
        '141 the reader closed the pipe',
      ]) {
        assert.ok(line.includes(code), `missing "${code}" in: ${line}`);
      }
    });
  }
});
