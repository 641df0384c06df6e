import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { addressClass, isHostName, mayResolve, policyAllows } from '../src/probe/follow-policy.js';
import { probePlan, UsageError } from '../src/cli/options.js';
import { DEFAULT_FOLLOW_MAX } from '../src/probe/follow.js';

// Pure functions on strings: no address here is ever connected to or resolved.
describe('address classes', () => {
  const cases: [string, string | null][] = [
    ['127.0.0.1', 'loopback'],
    ['127.45.6.7', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['0.0.0.0', 'reserved'],
    ['0.1.2.3', 'reserved'],
    ['::', 'reserved'],
    ['224.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['ff02::1', 'reserved'],
    ['64.4.9.254', 'public'],
    ['172.32.0.1', 'public'],
    ['2620:1ec::1', 'public'],
    ['ns.example.invalid', null],
    ['', null],
  ];
  for (const [address, cls] of cases) {
    test(`${address || '(empty)'} is ${cls}`, () => assert.equal(addressClass(address), cls));
  }
});

describe('host names from an XFR', () => {
  test('RFC 1123 names pass', () => {
    const good = ['ns7.example.invalid', 'a', 'x-1.y2.invalid', 'NS.Example.INVALID.', `${'a'.repeat(63)}.invalid`];
    for (const name of good) assert.equal(isHostName(name), true, name);
  });
  test('anything else does not', () => {
    const bad = [
      '',
      '.',
      'a..b',
      '-a.invalid',
      'a-.invalid',
      'a_b.invalid',
      'a b',
      'a\x1b[2J.invalid',
      'ns\u00e9.invalid',
      `${'a'.repeat(64)}.invalid`,
      `${'abcdefghi.'.repeat(26)}invalid`,
      '1.2.3.999',
      '10.0.0.1.2',
      'data%00.invalid',
      'a/b.invalid',
      '*.invalid',
    ];
    for (const name of bad) assert.equal(isHostName(name), false, JSON.stringify(name));
  });
});

describe('the default follow policy', () => {
  const loop = { host: '127.0.0.1', address: '127.0.0.1' };
  const pub = { host: 'dispatch.example.invalid', address: '64.4.9.254' };
  const lan = { host: '192.168.1.10', address: '192.168.1.10' };
  test('same class is allowed, another class is not', () => {
    assert.equal(policyAllows(loop, '127.0.0.2'), true);
    assert.equal(policyAllows(loop, '::1'), true);
    assert.equal(policyAllows(loop, '10.0.0.1'), false);
    assert.equal(policyAllows(loop, '64.4.9.253'), false);
    assert.equal(policyAllows(pub, '64.4.9.253'), true);
    assert.equal(policyAllows(pub, '127.0.0.1'), false);
    assert.equal(policyAllows(pub, '192.168.1.1'), false);
    assert.equal(policyAllows(pub, '169.254.169.254'), false);
    assert.equal(policyAllows(lan, '10.0.0.1'), true);
    assert.equal(policyAllows(lan, '64.4.9.253'), false);
  });
  test('the same host is allowed; a reserved address never by class', () => {
    assert.equal(policyAllows(pub, '64.4.9.254'), true);
    assert.equal(policyAllows({ host: '0.0.0.0', address: '0.0.0.0' }, '0.0.0.1'), false);
    assert.equal(policyAllows(pub, '0.0.0.0'), false);
  });
  test("names are resolved only under the target name's parent domain", () => {
    assert.equal(mayResolve('dispatch.example.invalid', 'ns7.example.invalid'), true);
    assert.equal(mayResolve('dispatch.example.invalid', 'a.b.example.invalid'), true);
    assert.equal(mayResolve('dispatch.example.invalid', 'DISPATCH.example.invalid.'), true);
    assert.equal(mayResolve('example.invalid', 'ns.example.invalid'), true);
    assert.equal(mayResolve('dispatch.example.invalid', 'exfil-c2VjcmV0.other.invalid'), false);
    assert.equal(mayResolve('dispatch.example.invalid', 'evilexample.invalid'), false);
    assert.equal(mayResolve('127.0.0.1', 'ns.example.invalid'), false);
  });
});

describe('--follow-any and --follow-max on the command line', () => {
  test('defaults, values, and a usage error without --follow', () => {
    const plain = probePlan({ follow: true }, ['127.0.0.1']);
    assert.equal(plain.scan.followAny, false);
    assert.equal(plain.scan.followMax, DEFAULT_FOLLOW_MAX);
    assert.equal(DEFAULT_FOLLOW_MAX, 16);
    const set = probePlan({ follow: true, 'follow-any': true, 'follow-max': '3' }, ['127.0.0.1']);
    assert.deepEqual([set.scan.followAny, set.scan.followMax], [true, 3]);
    assert.throws(
      () => probePlan({ 'follow-max': '3' }, ['127.0.0.1']),
      (e: unknown) => e instanceof UsageError && e.message === '--follow-max: only with --follow',
    );
    assert.throws(() => probePlan({ 'follow-any': true }, ['127.0.0.1']), /--follow-any: only with --follow/);
    const many = { follow: true, 'follow-max': 'many' };
    assert.throws(() => probePlan(many, ['127.0.0.1']), /--follow-max: 'many' is not a whole number/);
  });
});
