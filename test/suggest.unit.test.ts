/** The did-you-mean rules, table by table: what a typo suggests, and what is left alone as a target. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { closest, editDistance, mistypedCommand, nmapRangeMessage, unknownOptionMessage } from '../src/cli/suggest.js';
import { COMMANDS, firstPositional } from '../src/cli/parser.js';

describe('editDistance', () => {
  const rows: [string, string, number][] = [
    ['demo', 'demo', 0],
    ['dmeo', 'demo', 1],
    ['deom', 'demo', 1],
    ['dem', 'demo', 1],
    ['demoo', 'demo', 1],
    ['serv', 'serve', 1],
    ['exportr', 'exporter', 1],
    ['', 'abc', 3],
    ['rnage', 'range', 1],
    ['kitten', 'sitting', 3],
  ];
  for (const [a, b, d] of rows) test(`${a} / ${b}: ${d}`, () => assert.equal(editDistance(a, b), d));
});

describe('mistypedCommand: a first positional that reads as a subcommand', () => {
  const rows: [string, string | null][] = [
    ['dmeo', 'demo'],
    ['deom', 'demo'],
    ['DEMO', 'demo'],
    ['serv', 'serve'],
    ['sevre', 'serve'],
    ['profile', 'profiles'],
    ['profils', 'profiles'],
    ['exportr', 'exporter'],
    ['export', 'exporter'],
    ['bagde', 'badge'],
    ['merg', 'merge'],
    ['comp', 'completion'],
    ['completio', 'completion'],
    // Commands themselves run; they are no typo.
    ['demo', null],
    ['serve', null],
    // Targets: a dot, colon, digit or slash makes it an address, a name with a domain or a block.
    ['dmeo.', null],
    ['demo.example.invalid', null],
    ['dmeo:1863', null],
    ['127.0.0.1', null],
    ['::1', null],
    ['10.0.0.0/24', null],
    ['msnp://dmeo', null],
    ['demo1', null],
    // Single labels far from every command stay host names.
    ['localhost', null],
    ['messenger', null],
    ['escargot', null],
    ['db', null],
    ['se', null],
  ];
  for (const [word, meant] of rows) {
    test(`${word} -> ${meant}`, () => assert.equal(mistypedCommand(word, COMMANDS), meant));
  }
});

describe('closest', () => {
  test('short words allow one edit, longer ones two', () => {
    assert.equal(closest('rnage', ['range', 'rate']), 'range');
    assert.equal(closest('tmeout', ['timeout']), 'timeout');
    assert.equal(closest('tmout', ['timeout']), 'timeout');
    assert.equal(closest('xy', ['range']), null);
    assert.equal(closest('abcd', ['demo']), null);
  });
  test('a start of three letters or more names the one candidate it starts', () => {
    assert.equal(closest('concur', ['concurrency', 'color']), 'concurrency');
    assert.equal(closest('co', ['concurrency', 'color']), null);
  });
  test('an empty word suggests nothing', () => assert.equal(closest('', ['demo']), null));
});

describe('nmapRangeMessage', () => {
  const rows: [string, RegExp | null][] = [
    ['10.0.0.1-9', /write 10\.0\.0\.1-10\.0\.0\.9$/],
    ['10.0.0.1-9:1864', /write 10\.0\.0\.1-10\.0\.0\.9:1864$/],
    ['10.0.0.*', /write 10\.0\.0\.0\/24$/],
    ['10.0.*.*', /write 10\.0\.0\.0\/16$/],
    ['10.0.0.*:1864', /write 10\.0\.0\.0\/24:1864$/],
    ['10.0.0-3.*', /write 10\.0\.0\.0-10\.0\.3\.255$/],
    ['10.0-3.0.1', /a range of whole addresses \(10\.0\.0\.1-10\.0\.0\.9\) or a CIDR block/],
    ['10.0.0.9-1', /a range of whole addresses/],
    // Ours, or not an address at all: not for this message.
    ['10.0.0.1-10.0.0.9', null],
    ['10.0.0.0/24', null],
    ['10.0.0.1', null],
    ['10.0.0.300-301', null],
    ['host.invalid', null],
    ['a.b.c.*', null],
  ];
  for (const [text, message] of rows) {
    test(text, () => {
      const got = nmapRangeMessage(text);
      if (message === null) assert.equal(got, null);
      else assert.match(got ?? '', message);
    });
  }
  test('names the target and says nmap-style', () => {
    assert.match(
      nmapRangeMessage('10.0.0.1-9') ?? '',
      /^target '10\.0\.0\.1-9': nmap-style ranges are not understood;/,
    );
  });
});

describe('unknownOptionMessage', () => {
  const known = ['range', 'timeout', 'transport', 'profile', 'help', 'version', 'r', 't'];
  const rows: [string, string | null][] = [
    ['Unknown argument: rnage', 'unknown option --rnage; did you mean --range?'],
    ['Unknown argument: tiemout', 'unknown option --tiemout; did you mean --timeout?'],
    ['Unknown argument: profle', 'unknown option --profle; did you mean --profile?'],
    ['Unknown argument: bogus', 'unknown option --bogus'],
    ['Unknown argument: x', 'unknown option -x'],
    ['Unknown arguments: rnage-x, rnageX', 'unknown option --rnage-x'],
    ['Unknown arguments: rnage, bogus', 'unknown options --rnage, --bogus; did you mean --range?'],
    ['Unknown argument: no-rnage', 'unknown option --no-rnage; did you mean --no-range?'],
    ['Invalid values: something', null],
  ];
  for (const [message, expected] of rows) {
    test(message, () => assert.equal(unknownOptionMessage(message, known), expected));
  }
});

describe('firstPositional: the word a probe would take for its first target', () => {
  const booleans = ['json', 'deep', 'ipv4', '4'];
  const rows: [string[], string | undefined][] = [
    [['dmeo'], 'dmeo'],
    [['--json', 'dmeo'], 'dmeo'],
    [['--range', '8', 'dmeo'], 'dmeo'],
    [['-r', '8', 'dmeo'], 'dmeo'],
    [['--range=8', 'dmeo'], 'dmeo'],
    [['-4', 'dmeo'], 'dmeo'],
    [['--', 'dmeo'], 'dmeo'],
    [['--range', '8'], undefined],
  ];
  for (const [argv, word] of rows) test(argv.join(' '), () => assert.equal(firstPositional(argv, booleans), word));
});
