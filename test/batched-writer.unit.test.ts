import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { BatchedWriter } from '../src/cli/output/batched-writer.js';

/** A sink that is full after every write until `drain()` is called. */
class FullSink extends EventEmitter {
  readonly writes: string[] = [];
  write(text: string): boolean {
    this.writes.push(text);
    return false;
  }
  drain(): void {
    this.emit('drain');
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('nothing more reaches a full sink until it drains, and writes resolve only then', async () => {
  const sink = new FullSink();
  const out = new BatchedWriter(sink);
  const big = 'x'.repeat(100 * 1024);
  let resolved = 0;
  for (let i = 0; i < 5; i++) void out.write(big).then(() => resolved++);
  await turn();
  assert.equal(sink.writes.length, 1, 'one large piece outstanding, the rest held');
  assert.equal(resolved, 0);
  for (let n = 2; n <= 5; n++) {
    sink.drain();
    assert.equal(sink.writes.length, n);
  }
  sink.drain();
  await turn();
  assert.equal(resolved, 5);
  assert.equal(sink.writes.join(''), big.repeat(5));
});

test('small writes are batched, in order', async () => {
  const writes: string[] = [];
  const out = new BatchedWriter({ write: (t: string) => writes.push(t) });
  for (let i = 0; i < 100; i++) void out.write(`${i}\n`);
  await out.flush();
  assert.equal(writes.length, 1);
  assert.equal(writes[0], Array.from({ length: 100 }, (_, i) => `${i}\n`).join(''));
});

test('a sink that failed (stop aborted) ends every wait and takes nothing more', async () => {
  const sink = new FullSink();
  const lost = new AbortController();
  const out = new BatchedWriter(sink, lost.signal);
  const waiting = out.write('x'.repeat(100 * 1024));
  void out.write('more');
  lost.abort();
  await waiting;
  await out.write('after');
  await out.flush();
  assert.equal(sink.writes.length, 1);
});
