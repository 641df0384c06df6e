/**
 * Transports come from one registry: their names, default ports and exchanges, so that no other
 * file spells them; the JSON schema lists the same names.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { probe, type ProbeOptions } from '../src/probe/probe.js';
import { defaultPortFor, TRANSPORT_NAMES, transportOf } from '../src/transport/registry.js';
import { ROOT } from './helpers.js';

describe('the transport registry', () => {
  test('names every transport once, with its default port', () => {
    assert.deepEqual(TRANSPORT_NAMES, ['tcp', 'http']);
    assert.equal(transportOf('tcp').defaultPort, 1863);
    assert.equal(transportOf('http').defaultPort, 80);
    assert.equal(defaultPortFor(undefined), 1863);
    for (const name of TRANSPORT_NAMES) assert.equal(transportOf(name).name, name);
  });

  test("the report schema's transport enum is the registry's names", () => {
    const schema = JSON.parse(readFileSync(`${ROOT}docs/schema/report.schema.json`, 'utf8')) as unknown;
    const found: unknown[] = [];
    const walk = (node: unknown): void => {
      if (typeof node !== 'object' || node === null) return;
      for (const [key, value] of Object.entries(node)) {
        if (key === 'transport' && typeof value === 'object' && value !== null && 'enum' in value)
          found.push(value.enum);
        walk(value);
      }
    };
    walk(schema);
    assert.ok(found.length > 0, 'the schema has a transport enum');
    for (const names of found) assert.deepEqual(names, TRANSPORT_NAMES);
  });

  test('an unknown transport is a bad option before any connection', async () => {
    const options = { host: '127.0.0.1', port: 1, versions: [8], transport: 'udp' } as unknown as ProbeOptions;
    await assert.rejects(probe(options), { code: 'ERR_OPTION', message: /transport 'udp' is not tcp or http/ });
  });
});
