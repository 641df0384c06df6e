import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { BudgetRegistry, serverKey } from '../src/probe/budget.js';

/** A clock the test moves by hand. */
function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

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
