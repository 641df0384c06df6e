import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { OPTION_LIMITS } from '../src/core/limits.js';
import { DEFAULT_CONCURRENCY, DEFAULT_GLOBAL_CONCURRENCY, DEFAULT_TIMEOUT_MS } from '../src/core/defaults.js';
import { checkOptions } from '../src/probe/options.js';
import { probe } from '../src/probe/probe.js';
import { scan } from '../src/probe/scan.js';
import { commonProbeOptions } from '../src/cli/options.js';

describe('one option check for the library and the CLI', () => {
  test('defaults come from defaults.ts, filled in once', () => {
    const c = checkOptions({});
    assert.deepEqual(
      [c.timeoutMs, c.concurrency, c.globalConcurrency, c.port],
      [DEFAULT_TIMEOUT_MS, DEFAULT_CONCURRENCY, DEFAULT_GLOBAL_CONCURRENCY, 1863],
    );
    assert.equal(checkOptions({ transport: 'http' }).port, 80);
  });

  test('the same versions checked again: a fresh array each time, a changed list checked anew', () => {
    const given = [8, 3, 8, 21];
    const first = checkOptions({ versions: given }).versions;
    assert.deepEqual(first, [3, 8, 21]);
    first.push(99);
    const second = checkOptions({ versions: given }).versions;
    assert.deepEqual(second, [3, 8, 21]);
    assert.notEqual(second, first);
    given[0] = 100;
    assert.throws(() => checkOptions({ versions: given }), /version 100 is outside 1\.\.99/);
    assert.throws(() => checkOptions({ versions: given }), /version 100 is outside 1\.\.99/);
    given[0] = 2;
    assert.deepEqual(checkOptions({ versions: given }).versions, [2, 3, 8, 21]);
    assert.throws(() => checkOptions({ port: 0, versions: [] }), /port 0/);
  });

  test('probe() rejects past the upper bounds of limits.ts, as the CLI does', async () => {
    const over = OPTION_LIMITS.concurrency.max + 1;
    await assert.rejects(probe({ host: '127.0.0.1', concurrency: over }), {
      code: 'ERR_OPTION',
      message: `concurrency: ${over} is outside 1..${OPTION_LIMITS.concurrency.max}`,
    });
    await assert.rejects(probe({ host: '127.0.0.1', attempts: OPTION_LIMITS.attempts.max + 1 }), {
      code: 'ERR_OPTION',
    });
    await assert.rejects(probe({ host: '127.0.0.1', timeoutMs: OPTION_LIMITS.timeoutMs.max + 1 }), {
      code: 'ERR_OPTION',
    });
    assert.throws(() => commonProbeOptions({ concurrency: String(over) }), {
      message: `--concurrency: ${over} is outside 1..${OPTION_LIMITS.concurrency.max}`,
    });
  });

  test('scan() rejects bad options before it reads a target', async () => {
    let pulled = 0;
    function* targets(): Generator<{ host: string; port: number }> {
      pulled++;
      yield { host: '127.0.0.1', port: 1 };
    }
    await assert.rejects(
      scan(targets(), { globalConcurrency: 0 }, () => undefined),
      { code: 'ERR_OPTION', message: /globalConcurrency: 0 is outside 1\.\./ },
    );
    assert.equal(pulled, 0);
  });
});
