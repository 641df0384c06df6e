import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonDocumentWriter } from '../src/report/render/json-stream.js';
import { buildDocument, type TargetDocument } from '../src/report/render/json.js';

const startedAt = new Date('2026-01-02T03:04:05.678Z');

function doc(host: string, followed = 0): TargetDocument {
  const redirects = Array.from({ length: followed }, (_, i) => ({
    to: `10.0.0.${i}:1863`,
    host: `10.0.0.${i}`,
    port: 1863,
    versions: [8],
    formats: ['msnp8'],
    followed: true,
  }));
  return {
    host,
    port: 1863,
    transport: 'tcp',
    address: host,
    family: 4,
    accepted: [8],
    preferred: 8,
    offer: null,
    answered: true,
    elapsedMs: 3,
    probes: [
      {
        version: 8,
        status: 'accepted',
        reply: 'VER 1 MSNP8 "\\\n\u0001',
        elapsedMs: 1,
        bytesReceived: 13,
        cvr0: false,
      },
    ],
    ...(followed ? { redirects } : {}),
  } as unknown as TargetDocument;
}

/** The writer's text, and the pieces it was written in. */
async function written(steps: (w: JsonDocumentWriter) => Promise<void>): Promise<{ text: string; pieces: string[] }> {
  const pieces: string[] = [];
  const w = new JsonDocumentWriter((t) => pieces.push(t), startedAt);
  await steps(w);
  return { text: pieces.join(''), pieces };
}

/** What `JSON.stringify(document, null, 2)` printed before streaming, with durationMs moved after targets. */
function expected(targets: TargetDocument[], durationMs: number, interrupted = false): string {
  const { durationMs: d, ...rest } = buildDocument(targets, startedAt, durationMs);
  return `${JSON.stringify({ ...rest, durationMs: d, ...(interrupted ? { interrupted: true } : {}) }, null, 2)}\n`;
}

test('in input order, whatever the completion order, byte for byte the pretty-printed document', async () => {
  const [a, b, c] = [doc('127.0.0.1'), doc('127.0.0.2'), doc('127.0.0.3')];
  const { text, pieces } = await written(async (w) => {
    await w.add(2, c);
    await w.add(0, a);
    await w.add(1, b);
    await w.end(12.4);
  });
  assert.equal(text, expected([a, b, c], 12));
  assert.deepEqual(JSON.parse(text), { ...buildDocument([a, b, c], startedAt, 12) });
  assert.ok(pieces.length >= 4, 'written piece by piece, not as one string');
});

test('a report is written as soon as every earlier one is, and not before', async () => {
  const pieces: string[] = [];
  const w = new JsonDocumentWriter((t) => pieces.push(t), startedAt);
  await w.add(1, doc('127.0.0.2'));
  assert.equal(pieces.join(''), '', 'held: target 0 has not finished');
  await w.add(0, doc('127.0.0.1'));
  assert.match(pieces.join(''), /127\.0\.0\.1[\s\S]*127\.0\.0\.2/);
});

test('no target: an empty array', async () => {
  const { text } = await written((w) => w.end(0));
  assert.equal(text, expected([], 0));
});

test('interrupted: what finished, in input order, even past a gap, marked interrupted', async () => {
  const [a, c] = [doc('127.0.0.1'), doc('127.0.0.3')];
  const { text } = await written(async (w) => {
    await w.add(2, c);
    await w.add(0, a);
    await w.end(5, true);
  });
  assert.equal(text, expected([a, c], 5, true));
});

test('--follow: a target waits for the reports of the servers it was redirected to', async () => {
  const [dispatch, ns, next] = [doc('127.0.0.1', 1), doc('127.0.0.9'), doc('127.0.0.2')];
  const pieces: string[] = [];
  const w = new JsonDocumentWriter((t) => pieces.push(t), startedAt);
  await w.add(1, next);
  await w.add(0, dispatch);
  assert.doesNotMatch(pieces.join(''), /127\.0\.0\.2/, 'index 0 still owes its followed report');
  await w.add(0, ns);
  await w.end(1);
  assert.equal(pieces.join(''), expected([dispatch, ns, next], 1));
});

test('waits for the sink (back-pressure) before resolving', async () => {
  let release = (): void => undefined;
  const drained = new Promise<void>((resolve) => (release = resolve));
  const w = new JsonDocumentWriter(() => drained, startedAt);
  let done = false;
  const adding = w.add(0, doc('127.0.0.1')).then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(done, false);
  release();
  await adding;
  assert.equal(done, true);
});
