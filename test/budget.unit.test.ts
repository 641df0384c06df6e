import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { BudgetRegistry, RateLimiter, rateLimiterFor, serverKey } from '../src/probe/budget.js';
import { isMsnpProbeError } from '../src/core/errors.js';
import { OPTION_LIMITS } from '../src/core/limits.js';

/** A clock the test moves by hand. */
function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('RateLimiter (the --max-rate bucket)', () => {
  test('starts are evenly spaced at 1/rate, the first at once', () => {
    const clock = fakeClock();
    const bucket = new RateLimiter(20, { now: clock.now });
    const waits = Array.from({ length: 5 }, () => bucket.reserve());
    assert.deepEqual(waits, [0, 50, 100, 150, 200]);
  });
  test('a quiet spell saves no tokens: no burst after it', () => {
    const clock = fakeClock();
    const bucket = new RateLimiter(10, { now: clock.now });
    assert.equal(bucket.reserve(), 0);
    clock.advance(10_000);
    assert.deepEqual([bucket.reserve(), bucket.reserve(), bucket.reserve()], [0, 100, 200]);
  });
  test('time spent waiting counts: a caller arriving after its slot waits only the rest', () => {
    const clock = fakeClock();
    const bucket = new RateLimiter(4, { now: clock.now });
    assert.equal(bucket.reserve(), 0);
    clock.advance(100);
    assert.equal(bucket.reserve(), 150);
    clock.advance(400);
    assert.equal(bucket.reserve(), 0);
  });
  test('a wall clock stepped back an hour holds no start back', (t) => {
    let wall = Date.now();
    t.mock.method(Date, 'now', () => wall);
    const bucket = new RateLimiter(10);
    assert.equal(bucket.reserve(), 0);
    wall -= 3_600_000;
    assert.ok(bucket.reserve() <= 100, 'the next start is one interval away, not an hour');
  });
  test('a fractional rate: 0.5 per second is one start every 2 s', () => {
    const clock = fakeClock();
    const bucket = new RateLimiter(0.5, { now: clock.now });
    assert.deepEqual([bucket.reserve(), bucket.reserve()], [0, 2000]);
  });
  test('take() waits for its slot and gives up on abort', async () => {
    const bucket = new RateLimiter(1000);
    await bucket.take();
    const slow = new RateLimiter(0.001);
    await slow.take();
    const stop = new AbortController();
    const waiting = slow.take(stop.signal);
    stop.abort(new Error('stopped'));
    await assert.rejects(waiting, /stopped/);
  });
  test('rateLimiterFor: none for 0 or absent, MsnpProbeError ERR_OPTION outside the limits', () => {
    assert.equal(rateLimiterFor(undefined), undefined);
    assert.equal(rateLimiterFor(0), undefined);
    assert.ok(rateLimiterFor(0.5) instanceof RateLimiter);
    for (const bad of [-1, OPTION_LIMITS.maxRate.min / 2, OPTION_LIMITS.maxRate.max * 2, Number.NaN]) {
      assert.throws(
        () => rateLimiterFor(bad),
        (err: unknown) => isMsnpProbeError(err) && err.code === 'ERR_OPTION',
        String(bad),
      );
    }
  });
});

describe('BudgetRegistry (per-server budgets)', () => {
  const settings = { concurrency: 3, ratePerSecond: 0 };
  test('one budget per address and port, shared while used, gone when the last user is done', () => {
    const budgets = new BudgetRegistry();
    const a = budgets.acquire(serverKey('127.0.0.1', '127.0.0.1', 1863), settings);
    const b = budgets.acquire(serverKey('127.0.0.1', 'localhost', 1863), settings);
    const other = budgets.acquire(serverKey('127.0.0.1', '127.0.0.1', 1864), settings);
    assert.equal(a.budget, b.budget);
    assert.notEqual(a.budget, other.budget);
    assert.equal(budgets.size, 2);
    a.release();
    a.release();
    assert.equal(budgets.size, 2, 'a second release of one lease does not free the shared budget');
    b.release();
    other.release();
    assert.equal(budgets.size, 0);
  });
  test('a budget whose pacing still owes a wait outlives its users until then, and is reused meanwhile', () => {
    const clock = fakeClock();
    const budgets = new BudgetRegistry({ now: clock.now });
    const key = serverKey('::1', '::1', 1863);
    const first = budgets.acquire(key, { concurrency: 1, ratePerSecond: 1 });
    assert.equal(first.budget.pacer.reserve(), 0);
    assert.equal(first.budget.pacer.start(), true);
    first.release();
    assert.equal(budgets.size, 1);
    const next = budgets.acquire(key, { concurrency: 1, ratePerSecond: 1 });
    assert.equal(next.budget, first.budget);
    assert.ok(next.budget.pacer.reserve() > 0, 'the next start still waits for the pace');
    next.release();
  });
  test('without an address (a name the proxy resolves) the name stands for the server', () => {
    assert.equal(serverKey(null, 'MSN.Example.Invalid.', 1863), serverKey(null, 'msn.example.invalid', 1863));
    assert.notEqual(serverKey(null, '127.0.0.1', 1863), serverKey('127.0.0.1', '127.0.0.1', 1863));
  });
});
