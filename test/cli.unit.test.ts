/**
 * Option parsing and the exit-code policy, in-process: the yargs parser, probePlan and
 * commonProbeOptions, and main() on bad command lines (which end before any probe, so nothing
 * here opens a socket; targets end in .invalid all the same).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from '../src/cli/parser.js';
import { probePlan, commonProbeOptions, UsageError, type Args } from '../src/cli/options.js';
import { main, EXIT } from '../src/cli/main.js';
import { DEFAULT_TIMEOUT_MS, DEFAULT_CONCURRENCY } from '../src/probe/probe.js';
import { DEFAULT_GLOBAL_CONCURRENCY } from '../src/probe/scan.js';
import { EXIT_CODES } from '../src/verdict/exit-code.js';
import { fakeIo } from './helpers.js';

const T = 'nowhere.invalid';

async function argsOf(argv: string[]): Promise<{ args: Args; positional: string[] }> {
  const { err, args } = await parse(argv);
  assert.equal(err, null);
  return { args, positional: (Array.isArray(args['_']) ? args['_'] : []).map(String) };
}

async function plan(argv: string[]): ReturnType<typeof probePlan> extends infer P ? Promise<P> : never {
  const { args, positional } = await argsOf(argv);
  return probePlan(args, positional);
}

describe('parser.parse', () => {
  test('flags and positionals', async () => {
    const { args, positional } = await argsOf(['-r', '8-9', '-t', '700', '--json', '--no-offer', `${T}:1864`]);
    assert.deepEqual(positional, [`${T}:1864`]);
    assert.equal(args['json'], true);
    assert.equal(args['offer'], false);
  });
  test('an unknown flag is a usage error', async () => {
    // yargs reports it either way, depending on the path: as `err`, or by rejecting.
    const message = await parse(['--bogus', T]).then(
      (r) => String(r.err?.message),
      (e: unknown) => (e instanceof UsageError ? e.message : `not a UsageError: ${String(e)}`),
    );
    assert.match(message, /unknown option --bogus/);
  });
  test('--help is output, with the flags documented', async () => {
    const { err, output } = await parse(['--help']);
    assert.equal(err, null);
    for (const flag of ['--range', '--timeout', '--targets', '--transport', '--json'])
      assert.ok(output.includes(flag), flag);
    assert.match(
      output.replace(/\s+/g, ' '),
      new RegExp(
        'Exit codes: 0 .* 1 --expect or --baseline not met, .* 4 internal error, ' +
          '5 output could not be written, 6 this machine ran out of file descriptors',
      ),
    );
  });
});

describe('probePlan and commonProbeOptions', () => {
  test('defaults', async () => {
    const p = await plan([T]);
    assert.deepEqual(p.targets, [{ host: T, port: 1863 }]);
    assert.equal(p.targetsFile, null);
    assert.equal(p.scan.versions.length, 20);
    assert.equal(p.scan.timeoutMs, DEFAULT_TIMEOUT_MS);
    assert.equal(p.scan.concurrency, DEFAULT_CONCURRENCY);
    assert.equal(p.scan.globalConcurrency, DEFAULT_GLOBAL_CONCURRENCY);
    assert.equal(p.output, 'table');
    assert.equal(p.scan.transport, 'tcp');
    assert.equal(p.scan.offer, true);
  });
  test('--transport http makes 80 the default port; --port wins', async () => {
    assert.equal((await plan(['--transport', 'http', T])).targets[0]?.port, 80);
    assert.equal((await plan(['--transport', 'http', '--port', '8080', T])).targets[0]?.port, 8080);
  });
  test('`--targets -` and a bare `-` both mean standard input', async () => {
    assert.equal((await plan(['--targets', '-'])).targetsFile, '-');
    assert.equal((await plan(['-'])).targetsFile, '-');
  });
  test('--follow implies --deep, --verbose implies --transcript', async () => {
    const p = await plan(['--follow', '--verbose', T]);
    assert.deepEqual([p.scan.deep, p.scan.follow, p.scan.transcript, p.verbose], [true, true, true, true]);
  });
  test('--expect none is the empty set', async () => {
    assert.deepEqual((await plan(['--expect', 'none', T])).expect, []);
  });
  const bad: [string[], RegExp][] = [
    [['--range', '9-3', T], /--range: '9-3' is reversed/],
    [['--timeout', '0', T], /--timeout: 0 is outside 1\.\.600000/],
    [['--concurrency', 'x', T], /--concurrency: 'x' is not a whole number/],
    [['--port', '1', '--port', '2', T], /--port: given more than once/],
    [['--transport', 'udp', T], /Argument: transport, Given: "udp", Choices: "tcp", "http"/],
    [['--shard', '5/4', T], /--shard: shard 5\/4/],
    [[], /no target/],
    [['--targets', 'a', '-'], /--targets: give one list/],
  ];
  for (const [argv, message] of bad) {
    test(`usage error: ${argv.join(' ') || '(nothing)'}`, async () => {
      await assert.rejects(plan(argv), (err: unknown) => err instanceof UsageError && message.test(err.message));
    });
  }
  test('--json with --ndjson', () => {
    assert.throws(() => commonProbeOptions({ json: true, ndjson: true }), /choose one output/);
  });
});

describe('exit-code policy (main, in-process)', () => {
  test('the codes are a contract', () => {
    assert.deepEqual(EXIT, EXIT_CODES);
    assert.equal(EXIT.localError, 6);
    assert.equal(EXIT.outputFailed, 5);
  });
  const usage: string[][] = [
    ['--range', 'abc', T],
    ['--bogus', T],
    [],
    ['serve', '--port', '70000'],
    ['serve', '--fault', '13:nope'],
    ['demo', '--profile', 'nope'],
    ['profiles', 'extra'],
  ];
  for (const argv of usage) {
    test(`exit 2, one stderr line, empty stdout: ${argv.join(' ') || '(nothing)'}`, async () => {
      const io = fakeIo();
      assert.equal(await main(argv, io), EXIT.usage);
      assert.equal(io.out, '');
      assert.match(io.err, /^msnp-probe: [^\n]+\n$/);
    });
  }
  test('--version and --help: exit 0', async () => {
    for (const argv of [['--version'], ['--help']]) {
      const io = fakeIo();
      assert.equal(await main(argv, io), EXIT.ok);
      assert.equal(io.err, '');
    }
  });
});

describe('merge (main, in-process)', () => {
  test('durationMs: a wall clock stepped back an hour does not make it negative (a monotonic clock)', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'msnp-merge-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const shard = join(dir, 'empty.ndjson');
    await writeFile(shard, '');
    const wall = Date.now();
    t.mock.method(Date, 'now', () => wall - 3_600_000);
    const io = fakeIo();
    await main(['merge', '--json', shard], io);
    const doc = JSON.parse(io.out) as { durationMs: number };
    assert.ok(doc.durationMs >= 0 && doc.durationMs < 60_000, `durationMs ${doc.durationMs}`);
  });
});
