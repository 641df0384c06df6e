import { VerConversation, type Conversation } from '../codec/conversation.js';
import { DeepConversation } from '../codec/deep.js';
import type { VerRequest } from '../codec/classify.js';
import { bytesToHex } from '../core/escape.js';
import type { ExchangeResult } from '../transport/exchange.js';
import type { ExchangeOutcome, Measured, ProbeOutcome } from '../core/model.js';
import { transportOf } from '../transport/registry.js';
import type { ConnectOptions } from '../transport/transport.js';

export type { Measured, ExchangeOutcome, DeepMeasured } from '../core/model.js';
export type { ConnectOptions } from '../transport/transport.js';

/** One exchange over the transport the options name. */
export function run<T>(options: ConnectOptions, conversation: Conversation<T>): Promise<ExchangeResult<T>> {
  return transportOf(options.transport).exchange(options, conversation);
}

function measured(done: ExchangeResult<unknown>, reply: string | null, unsolicited: readonly string[]): Measured {
  const verMark = done.marks[0] ?? done;
  const out: Measured = { elapsedMs: verMark.elapsedMs, bytesReceived: verMark.bytesReceived };
  // Only where the reply field cannot show what came: no complete line, yet bytes arrived.
  if (done.bytesReceived > 0 && reply === null) out.firstBytes = bytesToHex(done.firstBytes);
  if (unsolicited.length > 0) out.unsolicited = [...unsolicited];
  if (done.transcript) out.transcript = done.transcript;
  return out;
}

/** One connection, one `VER`, one verdict. Never rejects except on abort. */
export function sendVer(options: ConnectOptions, request: VerRequest): Promise<ExchangeOutcome> {
  const conversation = new VerConversation(request);
  // The verdict is this connection's own object: measured in place, not copied twice (one per connection).
  return run(options, conversation).then((done) =>
    Object.assign(done.result, measured(done, done.result.reply, conversation.classifier.unsolicited)),
  );
}

/**
 * VER, then (when accepted) CVR, INF and the first USR step on the same connection, naming
 * `handle` (default: a placeholder) where a client names its account.
 */
export async function sendDeep(options: ConnectOptions, version: number, handle?: string): Promise<ProbeOutcome> {
  const conversation = new DeepConversation(version, handle);
  const done = await run(options, conversation);
  const out: ProbeOutcome = { ...done.result.ver, ...measured(done, done.result.ver.reply, conversation.unsolicited) };
  if (done.result.deep)
    out.deep = { ...done.result.deep, elapsedMs: Math.round((done.elapsedMs - out.elapsedMs) * 10) / 10 };
  return out;
}
