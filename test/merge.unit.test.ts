import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mergeReports, compareTargets } from '../src/report/merge.js';

/** A report as msnp-probe writes it, reduced to what merging looks at. */
function report(host: string, port: number, accepted: number[] = [8]): Record<string, unknown> {
  return {
    host,
    port,
    address: '127.0.0.1',
    family: 4,
    probes: [{ version: 8, status: accepted.includes(8) ? 'accepted' : 'rejected' }],
    accepted,
    preferred: null,
    offer: null,
    answered: true,
    elapsedMs: 1,
    transport: 'tcp',
  };
}
const ndjson = (...docs: unknown[]): string => docs.map((d) => `${JSON.stringify(d)}\n`).join('');
const where = (r: { host: string; port: number }): string => `${r.host}:${r.port}`;

describe('mergeReports', () => {
  test('without a list: sorted by host (case-insensitive), then port', () => {
    const a = { name: 'a', text: ndjson(report('b.invalid', 2), report('A.invalid', 9)) };
    const doc = { schemaVersion: 1, targets: [report('b.invalid', 1), report('a.invalid', 3)] };
    const b = { name: 'b', text: JSON.stringify(doc) };
    const merged = mergeReports([a, b]);
    assert.deepEqual(merged.targets.map(where), ['a.invalid:3', 'A.invalid:9', 'b.invalid:1', 'b.invalid:2']);
    assert.deepEqual(merged.missing, []);
  });
  test('with a list: its order, duplicate lines once, unlisted results after it, missing ones named', () => {
    const text = ndjson(report('x.invalid', 1), report('y.invalid', 1), report('extra.invalid', 5));
    const files = [{ name: 'a', text }];
    const order = [
      { host: 'y.invalid', port: 1 },
      { host: 'gone.invalid', port: 1 },
      { host: 'y.invalid', port: 1 },
      { host: 'X.invalid', port: 1 },
    ];
    const merged = mergeReports(files, order);
    assert.deepEqual(merged.targets.map(where), ['y.invalid:1', 'x.invalid:1', 'extra.invalid:5']);
    assert.deepEqual(merged.missing, [{ host: 'gone.invalid', port: 1 }]);
    assert.equal(merged.unlisted, 1);
  });
  test("a duplicate across files keeps the first file's result and is listed", () => {
    const merged = mergeReports([
      { name: 'one', text: ndjson(report('x.invalid', 1, [8])) },
      { name: 'two', text: ndjson(report('X.invalid', 1, [])) },
    ]);
    assert.equal(merged.targets.length, 1);
    assert.deepEqual(merged.targets[0]?.accepted, [8]);
    assert.deepEqual(merged.duplicates, [{ host: 'X.invalid', port: 1, file: 'two', kept: 'one' }]);
  });
  test('a cut last line is reported and skipped; an empty shard adds nothing', () => {
    const text = ndjson(report('x.invalid', 1), report('y.invalid', 1)).trimEnd().slice(0, -10);
    const merged = mergeReports([
      { name: 'cut', text },
      { name: 'empty', text: '' },
    ]);
    assert.deepEqual(merged.targets.map(where), ['x.invalid:1']);
    assert.deepEqual(merged.cut, [{ file: 'cut', line: 2 }]);
    const emptyDoc = mergeReports([{ name: 'doc', text: JSON.stringify({ schemaVersion: 1, targets: [] }) }]);
    assert.deepEqual(emptyDoc.targets, []);
  });
  test('anything else is ERR_OPTION naming the file', () => {
    const bad = [
      'not json\nat all\n',
      ndjson({ host: 'x.invalid', port: 1 }),
      ndjson({ ...report('x.invalid', 1), accepted: 'all' }),
      ndjson({ ...report('x.invalid', 1), answered: undefined }),
    ];
    for (const text of bad) {
      assert.throws(
        () => mergeReports([{ name: 'f.ndjson', text }]),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'ERR_OPTION');
          assert.match(err.message, /^'f\.ndjson': /);
          return true;
        },
        text,
      );
    }
  });
  test('compareTargets: host by code point, case-insensitive, then port numerically', () => {
    const sorted = [
      { host: '127.0.0.2', port: 10 },
      { host: '127.0.0.10', port: 1 },
      { host: '127.0.0.2', port: 9 },
    ].sort(compareTargets);
    assert.deepEqual(sorted.map(where), ['127.0.0.10:1', '127.0.0.2:9', '127.0.0.2:10']);
  });
});
