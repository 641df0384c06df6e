import { VerConversation, type Conversation } from '../codec/conversation.js';
import { DeepConversation } from '../codec/deep.js';
import type { VerRequest } from '../codec/classify.js';
import { bytesToHex } from '../core/escape.js';
import { FIRST_BYTES_KEPT } from '../core/limits.js';
import type { ExchangeResult } from '../transport/exchange.js';
import type { ExchangeOutcome, Measured, ProbeOutcome } from '../core/model.js';
import type { Outcome } from '../codec/outcome.js';
import { transportOf } from '../transport/registry.js';
import type { ConnectOptions } from '../transport/transport.js';

export type { Measured, ExchangeOutcome, DeepMeasured } from '../core/model.js';
export type { ConnectOptions } from '../transport/transport.js';

/** One exchange over the transport the options name. */
export function run<T>(options: ConnectOptions, conversation: Conversation<T>): Promise<ExchangeResult<T>> {
  return transportOf(options.transport).exchange(options, conversation);
}

/**
 * Writes the measurements onto `out` (in this key order: they are the report's): one object per
 * connection rather than a measurement object copied into the verdict.
 */
function measureInto<T extends object>(
  out: T,
  done: ExchangeResult<unknown>,
  reply: string | null,
  unsolicited: readonly string[],
): T & Measured {
  // The VER step's mark when the conversation went on past it; else the end is the VER reply's.
  const verMark = done.marks[0] ?? done;
  const m = out as T & Measured;
  m.elapsedMs = verMark.elapsedMs;
  m.bytesReceived = verMark.bytesReceived;
  // Only where the reply field cannot show what came: no complete line, yet bytes arrived.
  if (done.bytesReceived > 0 && reply === null) {
    m.firstBytes = bytesToHex(done.firstBytes.subarray(0, FIRST_BYTES_KEPT));
  }
  if (unsolicited.length > 0) m.unsolicited = [...unsolicited];
  if (done.transcript) m.transcript = done.transcript;
  return m;
}

/** One connection, one `VER`, one verdict. Never rejects except on abort. */
export function sendVer(options: ConnectOptions, request: VerRequest): Promise<ExchangeOutcome> {
  return sendVerAs(options, request, undefined);
}

/**
 * `sendVer` whose result starts with `head`'s keys (a report's `version` or `offered`): the
 * report's object built once, in its key order, rather than the verdict copied behind them.
 */
export function sendVerAs<H extends object>(
  options: ConnectOptions,
  request: VerRequest,
  head: H | undefined,
): Promise<H & ExchangeOutcome> {
  const conversation = new VerConversation(request);
  return run(options, conversation).then((done) => {
    const out = head ? Object.assign(head, done.result) : (done.result as H & Outcome);
    return measureInto(out, done, done.result.reply, conversation.classifier.unsolicited);
  });
}

/**
 * VER, then (when accepted) CVR, INF and the first USR step on the same connection, naming
 * `handle` (default: a placeholder) where a client names its account.
 */
export function sendDeep(options: ConnectOptions, version: number, handle?: string): Promise<ProbeOutcome> {
  return sendDeepAs(options, version, handle, undefined);
}

/** `sendDeep` whose result starts with `head`'s keys (see `sendVerAs`). */
export async function sendDeepAs<H extends object>(
  options: ConnectOptions,
  version: number,
  handle: string | undefined,
  head: H | undefined,
): Promise<H & ProbeOutcome> {
  const conversation = new DeepConversation(version, handle);
  const done = await run(options, conversation);
  const out: H & ProbeOutcome = measureInto(
    Object.assign(head ?? ({} as H), done.result.ver),
    done,
    done.result.ver.reply,
    conversation.unsolicited,
  );
  if (done.result.deep)
    out.deep = { ...done.result.deep, elapsedMs: Math.round((done.elapsedMs - out.elapsedMs) * 10) / 10 };
  return out;
}
