/**
 * Bad command lines: every one exits 2 with exactly one line on stderr, starting
 * `msnp-probe: `, no stack trace, nothing on stdout, and no network traffic (targets end in
 * .invalid, so even a regression that probed could not leave the machine).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { runBin } from './helpers.js';

const T = 'nowhere.invalid';

// [args, what stderr must say]
const rows: [string[], RegExp][] = [
  [['--range', '9-3', T], /--range: '9-3' is reversed \(write 3-9\)/],
  [['--range', '', T], /--range: the range is empty/],
  [['--range', '0', T], /--range: version 0 is outside 1\.\.99/],
  [['--range', '100', T], /--range: version 100 is outside 1\.\.99/],
  [['--range', 'abc', T], /--range: 'abc' .*is not a version/],
  [['--port', 'abc', T], /--port: port 'abc' is not a number from 1 to 65535/],
  [['--port', '0', T], /--port: port 0 is outside 1\.\.65535/],
  [['--port', '70000', T], /--port: port 70000 is outside 1\.\.65535/],
  [['--port', '1', '--port', '2', T], /--port: given more than once/],
  [[`${T}:99999`], /target 'nowhere\.invalid:99999': port 99999 is outside 1\.\.65535/],
  [['--timeout', 'abc', T], /--timeout: 'abc' is not a whole number of milliseconds/],
  [['--timeout', '0', T], /--timeout: 0 is outside 1\.\.600000/],
  [['--concurrency', 'abc', T], /--concurrency: 'abc' is not a whole number of connections/],
  [['--concurrency', '0', T], /--concurrency: 0 is outside 1\.\.1000/],
  [['--host', ''], /--host: the host is empty/],
  [['--host', 'a b'], /--host: 'a b' is not a valid host name or IP address/],
  [['--host', '[::1'], /--host: '\[::1' is not a valid host name or IP address/],
  [['[::1'], /target '\[::1': '\[::1' is not \[IPv6\]:PORT/],
  [[`${T}:1:2`], /write IPv6 addresses with a port as \[addr\]:port/],
  [['http://example.invalid'], /only msnp:\/\/ URLs are understood/],
  [['--bogus', T], /unknown option --bogus/],
  [[], /no target/],
  [['--expect', 'junk', T], /--expect: 'junk' .*is not a version/],
  [['serve', '--fault', '13:nope'], /--fault: fault '13:nope': unknown mode 'nope' \(known: close, reset, /],
  [['serve', '--profile', 'nope'], /profile.*"nope".*escargot/],
  [['demo', '--profile', 'nope'], /profile.*"nope".*escargot/],
  [['serve', '--port', '70000'], /--port: 70000 is outside 0\.\.65535/],
  [['serve', '--max-connections', '0'], /--max-connections: 0 is outside 1\.\.100000/],
  [['demo', 'extra'], /demo: unexpected argument 'extra'/],
  [['--range', '8\n9', T], /--range: '8\\n9' .*is not a version/],
  [['--host', '\x1b[2J\x1b]0;pwned\x07'], /--host: '\\x1b\[2J\\x1b\]0;pwned\\x07' is not a valid host name/],
  [['--json', '--ndjson', T], /--json and --ndjson: choose one output/],
  [['--targets', '/nonexistent/list.txt'], /--targets: cannot read '\/nonexistent\/list\.txt': ENOENT/],
  [['--targets', '/'], /--targets: cannot read '\/': EISDIR/],
  [['--targets', 'a.txt', '-', T], /--targets: give one list \(a FILE or -\)/],
  [['--baseline', '/nonexistent.json', T], /--baseline: cannot read '\/nonexistent\.json': ENOENT/],
  [['--shard', '0/2', T], /--shard: shard 0\/2: I must be from 1 to N/],
  [['--shard', 'half', T], /--shard: 'half' is not I\/N/],
  [['--rate', '0', T], /--rate: '0' is not a positive number of connections per second/],
  [['--retries', '-1', T], /Unknown argument|--retries: '-1' is not a whole number/],
  [['--attempts', '0', T], /--attempts: 0 is outside 1\.\.100/],
  [['--global-concurrency', 'x', T], /--global-concurrency: 'x' is not a whole number of connections/],
  [['--transport', 'ftp', T], /Argument: transport, Given: "ftp", Choices: "tcp", "http"/],
  [['serve', '--transport', 'gopher'], /transport.*"gopher"/],
  [['serve', '--host', 'nowhere.invalid'], /--host: cannot listen on 'nowhere\.invalid': ENOTFOUND/],
  [['demo', '--host', 'nowhere.invalid'], /--host: cannot listen on 'nowhere\.invalid': ENOTFOUND/],
  [[`no\x1bwhere.invalid:1863`], /target 'no\\x1bwhere\.invalid:1863': 'no\\x1bwhere\.invalid' is not a valid host/],
];

describe('bad command lines: exit 2, one line on stderr, nothing on stdout', { concurrency: 2 }, () => {
  for (const [args, message] of rows) {
    test(JSON.stringify(args), { timeout: 15_000 }, async () => {
      const r = await runBin(args, { timeoutMs: 10_000 });
      assert.equal(r.signal, null, 'exits by itself');
      assert.equal(r.code, 2, `exit ${r.code}; stderr: ${r.stderr}`);
      assert.equal(r.stdout, '', 'stdout stays empty');
      assert.match(r.stderr, /^msnp-probe: [^\n]*\n$/, 'exactly one line, starting msnp-probe: ');
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
      assert.doesNotMatch(r.stderr, /[\x00-\x08\x0b-\x1f\x7f-\x9f]/, 'no raw control bytes (the input is escaped)');
      assert.match(r.stderr, message);
      assert.match(r.stderr, /\(see --help\)\n$/);
    });
  }
});

describe('usage messages read as one sentence', () => {
  test('a multi-line yargs message (invalid --profile choice) is joined, not shown with a literal \\n', {
    timeout: 15_000,
  }, async () => {
    const r = await runBin(['serve', '--profile', 'nope'], { timeoutMs: 10_000 });
    assert.equal(r.code, 2);
    assert.doesNotMatch(r.stderr, /\\n/, `stderr: ${r.stderr}`);
  });
});
