/** Shell completion: subcommands, each one's options, and the values of options with a known set. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { completions } from '../src/cli/complete.js';
import { COMMANDS } from '../src/cli/parser.js';
import { PROFILE_NAMES, ESCARGOT_ERAS } from '../src/emulator/profiles.js';
import { FORMAT_NAMES } from '../src/report/formats/registry.js';
import { FAULT_MODES } from '../src/emulator/faults.js';
import { main, EXIT, type Io } from '../src/cli/main.js';

describe('completions', () => {
  test('an empty word: the subcommands and the probe options', () => {
    const got = completions(['']);
    for (const command of COMMANDS) assert.ok(got.includes(command), command);
    for (const option of ['--range', '--timeout', '--transport', '--output', '--host']) assert.ok(got.includes(option));
  });
  test('a started word: what starts so', () => {
    assert.deepEqual(
      completions(['de']),
      ['demo', '--deep'].filter((c) => c.startsWith('de')),
    );
    assert.deepEqual(completions(['--tr']), ['--transcript', '--transport']);
  });
  test('serve --profile: every profile and every Escargot era', () => {
    const got = completions(['serve', '--profile', '']);
    for (const name of PROFILE_NAMES) assert.ok(got.includes(name), name);
    for (const era of ESCARGOT_ERAS) assert.ok(got.includes(`escargot@${era.from}`), era.from);
    assert.ok(
      got.every((v) => !v.startsWith('-')),
      'values only',
    );
    assert.deepEqual(
      completions(['serve', '--profile', 'escargot@2019']),
      ESCARGOT_ERAS.filter((e) => e.from.startsWith('2019')).map((e) => `escargot@${e.from}`),
    );
  });
  test('--transport: tcp and http, in every command that has it', () => {
    for (const before of [[], ['demo'], ['serve'], ['badge']]) {
      assert.deepEqual(completions([...before, '--transport', '']), ['tcp', 'http'], before.join(' '));
    }
  });
  test('-o and --output: the formats of the registry', () => {
    assert.deepEqual(completions(['-o', '']), [...FORMAT_NAMES]);
    assert.deepEqual(completions(['demo', '--output', '']), [...FORMAT_NAMES]);
  });
  test('--fault: the fault modes', () => {
    assert.deepEqual(completions(['serve', '--fault', '']), [...FAULT_MODES]);
  });
  test("demo --: demo's options (emulator and probe), not the target options", () => {
    const got = completions(['demo', '--']);
    for (const option of ['--profile', '--fault', '--delay', '--range', '--deep', '--transport']) {
      assert.ok(got.includes(option), option);
    }
    assert.ok(!got.includes('--targets'), 'a plain probe option');
    assert.ok(!got.includes('demo'), 'no subcommands after one');
  });
  test("serve: serve's own options only", () => {
    const got = completions(['serve', '']);
    assert.ok(got.includes('--profile') && got.includes('--port'));
    assert.ok(!got.includes('--range'), 'serve does not probe');
  });
  test('exporter and badge options', () => {
    assert.ok(completions(['exporter', '--']).includes('--allow'));
    assert.ok(completions(['badge', '--']).includes('--from'));
  });
  test('a FILE or HOST argument, or a value of no known set: nothing, so the shell completes file names', () => {
    assert.deepEqual(completions(['--targets', '']), []);
    assert.deepEqual(completions(['merge', '']), []);
    assert.deepEqual(completions(['badge', '--from', '']), []);
    assert.deepEqual(completions(['--range', '8', 'host.invalid', '']), []);
  });
  test('after a value, options again: a value is not taken for a subcommand', () => {
    const got = completions(['--range', '8-9', '--']);
    assert.ok(got.includes('--timeout'));
  });
});

describe('the CLI answers the shell', () => {
  test('--get-yargs-completions: one completion a line, exit 0', async () => {
    const io: Io & { out: string } = {
      out: '',
      stdout: { write: (t: string) => (io.out += t) },
      stderr: { write: () => undefined },
      env: {},
    };
    assert.equal(await main(['--get-yargs-completions', 'msnp-probe', 'serve', '--profile', 'msn-20'], io), EXIT.ok);
    assert.deepEqual(
      io.out.trim().split('\n'),
      PROFILE_NAMES.filter((p) => p.startsWith('msn-20')),
    );
  });
});
