/**
 * Transports come from one registry: their names, default ports and exchanges, so that no other
 * file spells them.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { probe, type ProbeOptions } from '../src/probe/probe.js';
import { TRANSPORT_NAMES, transportOf } from '../src/transport/registry.js';

describe('the transport registry', () => {
  test('names every transport once, with its default port', () => {
    assert.deepEqual(TRANSPORT_NAMES, ['tcp', 'http']);
    assert.equal(transportOf('tcp').defaultPort, 1863);
    assert.equal(transportOf('http').defaultPort, 80);
  });

  test('an unknown transport is a bad option before any connection', async () => {
    const options = { host: '127.0.0.1', port: 1, versions: [8], transport: 'udp' } as unknown as ProbeOptions;
    await assert.rejects(probe(options), { code: 'ERR_OPTION', message: /transport 'udp' is not tcp or http/ });
  });
});
