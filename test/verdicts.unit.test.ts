import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { probePlan, UsageError } from '../src/cli/options.js';

describe('--expect against --range', () => {
  test('versions expected but outside the probed range are a usage error naming them', () => {
    assert.throws(
      () => probePlan({ range: '8-9', expect: '2-21' }, ['127.0.0.1']),
      (err: unknown) =>
        err instanceof UsageError &&
        /^--expect: MSNP2-MSNP7, MSNP10-MSNP21 are outside --range MSNP8-MSNP9 \(never probed\)/.test(err.message),
    );
    assert.throws(() => probePlan({ range: '8,10', expect: '8-10' }, ['127.0.0.1']), /MSNP9 is outside --range/);
  });
  test('an expectation inside the range, the default range, or `none` is fine', () => {
    assert.deepEqual(probePlan({ range: '8-18', expect: '11-12,14-16' }, ['127.0.0.1']).expect, [11, 12, 14, 15, 16]);
    assert.deepEqual(probePlan({ expect: '2-21' }, ['127.0.0.1']).expect?.length, 20);
    assert.deepEqual(probePlan({ range: '8-9', expect: 'none' }, ['127.0.0.1']).expect, []);
  });
});
