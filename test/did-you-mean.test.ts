/**
 * Mistyped subcommands, nmap-style ranges and unknown options, through main() in-process with the
 * system resolver replaced by a trap: the run must end with exit 2 and one line before any lookup.
 * The control test shows the trap does catch a lookup, so the absence of one means something.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';
import { main, EXIT } from '../src/cli/main.js';
import { fakeIo } from './helpers.js';

const looked: string[] = [];
const saved = { lookup: dns.lookup, promisesLookup: dns.promises.lookup };

before(() => {
  // Never a query: every lookup is recorded and fails at once.
  const trap = (host: string): never => {
    looked.push(host);
    throw Object.assign(new Error(`lookup of ${host} trapped`), { code: 'ENOTFOUND' });
  };
  (dns as { lookup: unknown }).lookup = trap;
  (dns.promises as { lookup: unknown }).lookup = async (host: string) => trap(host);
  syncBuiltinESMExports();
});

after(() => {
  (dns as { lookup: unknown }).lookup = saved.lookup;
  (dns.promises as { lookup: unknown }).lookup = saved.promisesLookup;
  syncBuiltinESMExports();
});

async function run(argv: string[]): Promise<{ code: number; out: string; err: string; looked: string[] }> {
  looked.length = 0;
  const io = fakeIo();
  const code = await main(argv, io);
  return { code, out: io.out, err: io.err, looked: [...looked] };
}

describe('a word that cannot be a target: exit 2, one line, no lookup', () => {
  const rows: [string[], RegExp][] = [
    [['dmeo'], /^msnp-probe: unknown command 'dmeo': did you mean demo\? .*'dmeo\.' or --host dmeo/],
    [['--json', 'dmeo'], /did you mean demo\?/],
    [['serv', '--port', '0'], /unknown command 'serv': did you mean serve\?/],
    [['profile'], /did you mean profiles\?/],
    [['exportr', '--allow', '127.0.0.1'], /did you mean exporter\?/],
    [['bagde'], /did you mean badge\?/],
    [['10.0.0.1-9'], /target '10\.0\.0\.1-9': nmap-style ranges are not understood; write 10\.0\.0\.1-10\.0\.0\.9/],
    [['127.0.0.*'], /nmap-style .*write 127\.0\.0\.0\/24/],
    [['badge', '127.0.0.1-9'], /nmap-style .*write 127\.0\.0\.1-127\.0\.0\.9/],
    [['--rnage', '8-9', 'x.invalid'], /^msnp-probe: unknown option --rnage; did you mean --range\? \(see --help\)$/],
    [['demo', '--profle', 'escargot'], /unknown option --profle; did you mean --profile\?/],
    [['serve', '--prot', '0'], /unknown option --prot; did you mean --port\?/],
    [['badge', '--lable', 'x', 'x.invalid'], /unknown option --lable; did you mean --label\?/],
    [['--bogus', 'x.invalid'], /^msnp-probe: unknown option --bogus \(see --help\)$/],
  ];
  for (const [argv, message] of rows) {
    test(argv.join(' '), async () => {
      const r = await run(argv);
      assert.equal(r.code, EXIT.usage, r.err);
      assert.equal(r.out, '');
      assert.match(r.err, /^msnp-probe: [^\n]+\n$/);
      assert.match(r.err.trimEnd(), message);
      assert.deepEqual(r.looked, [], 'no name was looked up');
    });
  }
});

describe('targets close to a command name are still probed when written as targets', () => {
  test('control: a single-label name is looked up (the trap sees it)', async () => {
    const r = await run(['zzqqxx', '--timeout', '5s', '--no-offer', '--range', '8']);
    assert.equal(r.code, EXIT.noMsnpAnswer, r.err);
    assert.ok(r.looked.includes('zzqqxx'), `looked up: ${r.looked.join(', ')}`);
  });
  for (const argv of [['dmeo.'], ['--host', 'dmeo']]) {
    test(argv.join(' '), async () => {
      const r = await run([...argv, '--timeout', '5s', '--no-offer', '--range', '8']);
      assert.equal(r.code, EXIT.noMsnpAnswer, r.err);
      assert.ok(
        r.looked.some((h) => h.startsWith('dmeo')),
        `looked up: ${r.looked.join(', ')}`,
      );
    });
  }
});
