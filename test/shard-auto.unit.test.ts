import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { resolveShard } from '../src/probe/shard-auto.js';

const JOB = (index: string, shards?: string): Record<string, string> => ({
  JOB_COMPLETION_INDEX: index,
  ...(shards !== undefined ? { MSNP_PROBE_SHARDS: shards } : {}),
});

describe('--shard auto', () => {
  test('the 0-based completion index becomes the 1-based I', () => {
    assert.deepEqual(resolveShard('auto', '4', JOB('0')), { index: 1, count: 4 });
    assert.deepEqual(resolveShard('auto', '4', JOB('3')), { index: 4, count: 4 });
    assert.deepEqual(resolveShard('auto', undefined, JOB('2', '3')), { index: 3, count: 3 });
  });
  test('--shards wins over MSNP_PROBE_SHARDS', () => {
    assert.deepEqual(resolveShard('auto', '5', JOB('4', '2')), { index: 5, count: 5 });
  });
  test('I/N and no --shard are as before', () => {
    assert.deepEqual(resolveShard('2/4', undefined, JOB('0', '9')), { index: 2, count: 4 });
    assert.equal(resolveShard(undefined, undefined, JOB('0', '9')), null);
  });
  const bad: [unknown, unknown, Record<string, string>, RegExp][] = [
    ['auto', '4', {}, /^--shard auto: JOB_COMPLETION_INDEX is not set/],
    ['auto', '4', JOB(''), /^--shard auto: JOB_COMPLETION_INDEX is not set/],
    ['auto', '4', JOB('one'), /^--shard auto: JOB_COMPLETION_INDEX 'one' is not a whole number$/],
    ['auto', '4', JOB('-1'), /is not a whole number/],
    ['auto', '4', JOB('1.5'), /is not a whole number/],
    ['auto', '4', JOB('4'), /^--shard auto: JOB_COMPLETION_INDEX 4 is outside 0\.\.3 \(4 shards\)$/],
    ['auto', undefined, JOB('0'), /^--shard auto: needs the shard count: --shards N or MSNP_PROBE_SHARDS=N$/],
    ['auto', '0', JOB('0'), /^--shards: '0' is not a whole number from 1/],
    ['auto', 'x', JOB('0'), /^--shards: 'x' is not a whole number/],
    ['auto', undefined, JOB('0', 'lots'), /^MSNP_PROBE_SHARDS: 'lots' is not a whole number/],
    ['auto', ['2', '3'], JOB('0'), /^--shards: given more than once$/],
    ['1/4', '4', JOB('0'), /^--shards: only with --shard auto/],
    [undefined, '4', JOB('0'), /^--shards: only with --shard auto$/],
    ['5/4', undefined, {}, /^--shard: shard 5\/4: I must be from 1 to N$/],
  ];
  for (const [shard, shards, env, message] of bad) {
    test(`usage error: --shard ${String(shard)} --shards ${String(shards)} ${JSON.stringify(env)}`, () => {
      assert.throws(
        () => resolveShard(shard, shards, env),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'ERR_OPTION');
          assert.match(err.message, message);
          assert.doesNotMatch(err.message, /\n/);
          return true;
        },
      );
    });
  }
});
