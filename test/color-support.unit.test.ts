import { test } from 'node:test';
import assert from 'node:assert/strict';
import { colorSupport } from '../src/cli/color-support.js';

const cases: [string, unknown, boolean, Record<string, string>, boolean][] = [
  // what, --color flag, stdout is a TTY, environment, colour
  ['a terminal', undefined, true, {}, true],
  ['a pipe', undefined, false, {}, false],
  ['--color on a pipe', true, false, {}, true],
  ['--color beats NO_COLOR and TERM=dumb', true, false, { NO_COLOR: '1', TERM: 'dumb' }, true],
  ['--no-color on a terminal', false, true, {}, false],
  ['--no-color beats FORCE_COLOR', false, true, { FORCE_COLOR: '1' }, false],
  ['NO_COLOR on a terminal', undefined, true, { NO_COLOR: '1' }, false],
  ['an empty NO_COLOR is unset', undefined, true, { NO_COLOR: '' }, true],
  ['FORCE_COLOR=0 on a terminal', undefined, true, { FORCE_COLOR: '0' }, false],
  ['FORCE_COLOR=false on a terminal', undefined, true, { FORCE_COLOR: 'false' }, false],
  ['FORCE_COLOR=1 on a pipe', undefined, false, { FORCE_COLOR: '1' }, true],
  ['FORCE_COLOR=2 on a pipe', undefined, false, { FORCE_COLOR: '2' }, true],
  ['FORCE_COLOR=3 on a pipe', undefined, false, { FORCE_COLOR: '3' }, true],
  ['FORCE_COLOR=true on a pipe', undefined, false, { FORCE_COLOR: 'true' }, true],
  ['an empty FORCE_COLOR on a pipe', undefined, false, { FORCE_COLOR: '' }, true],
  ['FORCE_COLOR beats NO_COLOR', undefined, false, { FORCE_COLOR: '1', NO_COLOR: '1' }, true],
  ['FORCE_COLOR beats TERM=dumb', undefined, true, { FORCE_COLOR: '1', TERM: 'dumb' }, true],
  ['TERM=dumb on a terminal', undefined, true, { TERM: 'dumb' }, false],
  ['another TERM on a terminal', undefined, true, { TERM: 'xterm-256color' }, true],
  ['CI alone on a pipe (picocolors would colour)', undefined, false, { CI: 'true' }, false],
];

for (const [what, flag, isTTY, env, expected] of cases) {
  test(`colour: ${what} -> ${expected ? 'on' : 'off'}`, () => {
    assert.equal(colorSupport(flag, { isTTY }, env), expected);
  });
}
