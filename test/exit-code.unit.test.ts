import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exitCode, EXIT_CODES, type RunSummary } from '../src/verdict/exit-code.js';
import { EXIT_CODES as exported } from '../src/index.js';

const run = (over: Partial<RunSummary>): RunSummary => ({
  targets: 3,
  silent: 0,
  failedChecks: 0,
  checked: false,
  ...over,
});

// [case, summary, expected code]: one line per rule of the policy.
const CASES: [string, RunSummary, number][] = [
  ['every target answered', run({}), 0],
  ['every target answered and met the check', run({ checked: true }), 0],
  ['a silent target', run({ silent: 1 }), 3],
  ['every target silent', run({ silent: 3 }), 3],
  ['a failed check', run({ checked: true, failedChecks: 1 }), 1],
  ['a failed check wins over a silent target', run({ checked: true, failedChecks: 1, silent: 2 }), 1],
  ['an empty list without a check', run({ targets: 0 }), 0],
  ['an empty list with a check does not pass', run({ targets: 0, checked: true }), 1],
  ['SIGINT', run({ interrupted: 'SIGINT' }), 130],
  ['SIGTERM', run({ interrupted: 'SIGTERM' }), 143],
  ['SIGINT wins over a failed check', run({ interrupted: 'SIGINT', checked: true, failedChecks: 1 }), 130],
  ['SIGINT before any target', run({ targets: 0, interrupted: 'SIGINT', checked: true }), 130],
  ['a full disk', run({ writeError: 'ENOSPC' }), 5],
  ['a full disk wins over a failed check', run({ writeError: 'ENOSPC', checked: true, failedChecks: 2 }), 5],
  ['a full disk wins over SIGTERM', run({ writeError: 'EBADF', interrupted: 'SIGTERM' }), 5],
  ['a closed pipe after a clean start never passes', run({ writeError: 'EPIPE' }), 141],
  ['a closed pipe with a check never passes', run({ writeError: 'EPIPE', checked: true }), 141],
  ['a closed pipe keeps a failed check', run({ writeError: 'EPIPE', checked: true, failedChecks: 1 }), 1],
  ['a closed pipe keeps a silent target', run({ writeError: 'EPIPE', silent: 1 }), 3],
  ['a closed pipe and SIGINT', run({ writeError: 'EPIPE', interrupted: 'SIGINT' }), 130],
  ['probes this machine could not make', run({ localErrors: 2 }), 6],
  [
    'local errors win over a failed check and a silent target',
    run({ localErrors: 1, checked: true, failedChecks: 1, silent: 1 }),
    6,
  ],
  ['a full disk wins over local errors', run({ localErrors: 1, writeError: 'ENOSPC' }), 5],
  ['local errors and a closed pipe', run({ localErrors: 1, writeError: 'EPIPE' }), 6],
  ['no write error given as null', run({ writeError: null, interrupted: null }), 0],
];

for (const [name, summary, code] of CASES) {
  test(`exitCode: ${name} -> ${code}`, () => assert.equal(exitCode(summary), code));
}

test('exit codes: the documented contract, exported by the library', () => {
  assert.deepEqual(
    { ...exported },
    {
      ok: 0,
      expectationNotMet: 1,
      usage: 2,
      noMsnpAnswer: 3,
      internal: 4,
      outputFailed: 5,
      localError: 6,
      pipeClosed: 141,
      interrupted: 130,
      terminated: 143,
    },
  );
  assert.equal(exported, EXIT_CODES);
});
