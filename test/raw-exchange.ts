import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Raw exchanges with an emulator over real TCP, for tables a reader can check line by line
 * against docs/PROTOCOL.md. Waits are event-driven with generous deadlines; only "nothing more
 * arrives" needs a quiet period, and rows follow silence with a command that must be answered
 * where the server's behaviour allows it.
 */

/** One write and what must arrive after it: exact text (latin1), a pattern, or '' for silence. */
export interface Step {
  send: string | Buffer;
  expect?: string | RegExp;
}

export interface Exchange {
  name: string;
  steps: Step[];
  /** The connection's state after the last step. */
  end: 'open' | 'closed';
}

const DEADLINE_MS = 15_000;
export const QUIET_MS = 300;

class Wire {
  received = Buffer.alloc(0);
  closed = false;
  #wake: (() => void)[] = [];
  readonly socket: Socket;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.received = Buffer.concat([this.received, d]);
      this.#notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#notify();
    });
    socket.on('error', () => undefined);
  }

  #notify(): void {
    for (const w of this.#wake.splice(0)) w();
  }

  /** Resolves once `ready()` holds or the socket closed; fails after a generous deadline. */
  async until(ready: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + DEADLINE_MS;
    while (!ready() && !this.closed) {
      const left = deadline - Date.now();
      if (left <= 0)
        assert.fail(`timed out waiting for ${what}; got ${JSON.stringify(this.received.toString('latin1'))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

export async function openWire(port: number): Promise<Wire> {
  const socket = connect({ host: '127.0.0.1', port, noDelay: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return new Wire(socket);
}

/** Runs one exchange row and asserts every step and the final state. */
export async function runExchange(port: number, row: Exchange): Promise<string[]> {
  const wire = await openWire(port);
  const answers: string[] = [];
  try {
    for (const [i, step] of row.steps.entries()) {
      const at = wire.received.length;
      const label = `${row.name}, step ${i + 1}`;
      assert.ok(!wire.closed, `${label}: the connection closed before this step`);
      wire.socket.write(typeof step.send === 'string' ? Buffer.from(step.send, 'latin1') : step.send);
      const got = (): string => wire.received.subarray(at).toString('latin1');
      const expect = step.expect ?? '';
      const last = i === row.steps.length - 1;
      if (typeof expect === 'string' && expect !== '') {
        await wire.until(() => wire.received.length - at >= Buffer.byteLength(expect, 'latin1'), label);
        assert.equal(got(), expect, label);
      } else if (expect instanceof RegExp) {
        await wire.until(() => expect.test(got()), label);
        assert.match(got(), expect, label);
      } else if (last && row.end === 'closed') {
        await wire.until(() => false, `${label}: close`);
        assert.equal(got(), '', `${label}: no reply before the close`);
      } else {
        await sleep(QUIET_MS);
        assert.equal(got(), '', `${label}: no reply`);
      }
      answers.push(got());
    }
    if (row.end === 'closed') {
      await wire.until(() => false, `${row.name}: close`);
      assert.ok(wire.closed);
    } else {
      await sleep(QUIET_MS);
      assert.ok(!wire.closed, `${row.name}: the server closed the connection`);
    }
    return answers;
  } finally {
    wire.socket.destroy();
  }
}
