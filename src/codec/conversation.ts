import { buildVerRequest, VerReplyClassifier, type VerRequest } from './classify.js';
import type { Outcome } from './outcome.js';

/**
 * A protocol exchange as a pure state machine: bytes in, bytes to send and a result out. The
 * transports (TCP, HTTP gateway) drive it; it never touches a socket or a clock.
 */
export type Step<T> =
  /** Keep reading. */
  | { type: 'wait' }
  /** Send these bytes; the reply they ask for gets a fresh deadline. */
  | { type: 'send'; data: string }
  | { type: 'done'; result: T };

export interface Conversation<T> {
  /** The bytes to send first. */
  opening(): string;
  /**
   * Bytes to write after the opening once `afterMs` has passed, whatever came meanwhile: one line
   * split over two TCP segments (a fingerprint probe). Plain TCP only; the gateway ignores it.
   */
  later?(): { afterMs: number; data: string } | undefined;
  push(chunk: Uint8Array): Step<T>;
  /** The stream ended (`close`) or the current deadline passed (`timeout`) before `done`. */
  end(how: 'close' | 'timeout'): T;
  /** The transport failed (reset, refused, unreachable, connect timeout); `outcome` says how. */
  fail(outcome: Outcome): T;
}

/** The VER probe: one request, one verdict. */
export class VerConversation implements Conversation<Outcome> {
  readonly classifier: VerReplyClassifier;
  readonly #request: VerRequest;

  constructor(request: VerRequest) {
    this.#request = request;
    this.classifier = new VerReplyClassifier(request);
  }

  opening(): string {
    return buildVerRequest(this.#request);
  }

  push(chunk: Uint8Array): Step<Outcome> {
    const outcome = this.classifier.push(chunk);
    return outcome ? { type: 'done', result: outcome } : { type: 'wait' };
  }

  end(how: 'close' | 'timeout'): Outcome {
    return this.classifier.end(how);
  }

  fail(outcome: Outcome): Outcome {
    return outcome;
  }
}
