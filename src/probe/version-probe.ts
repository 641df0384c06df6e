import { buildVerRequest, VerReplyClassifier, type VerRequest } from '../codec/classify.js';
import { bytesToHex } from '../codec/escape.js';
import type { Outcome } from '../codec/outcome.js';
import { exchange, statusForErrno, type TranscriptEntry } from '../transport/exchange.js';

/** The measured side of a probe, shared by per-version probes and the combined offer. */
export interface Measured {
  elapsedMs: number;
  /** Bytes read from the server before the verdict (0: nothing came). */
  bytesReceived: number;
  /** Hex of the first bytes received (at most 64), present when any came. */
  firstBytes?: string;
  /** Complete unsolicited lines (trId 0 or none) skipped before the reply. */
  unsolicited?: string[];
  transcript?: TranscriptEntry[];
}

export type ExchangeOutcome = Outcome & Measured;

export interface ConnectOptions {
  address: string;
  port: number;
  family?: 4 | 6;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  transcript?: boolean;
}

/** Maps a socket error to its outcome. */
export function outcomeForErrno(errno: string, phase: 'connect' | 'reply'): Outcome {
  const status = statusForErrno(errno);
  switch (status) {
    case 'refused':
      return { status, reply: null, errno };
    case 'reset':
      return { status, reply: null };
    case 'timeout':
      return { status, reply: null, phase };
    case 'unreachable':
      return { status, reply: null, errno, reason: 'network' };
  }
}

/** One connection, one `VER`, one verdict. Never rejects except on abort. */
export async function sendVer(options: ConnectOptions, request: VerRequest): Promise<ExchangeOutcome> {
  const classifier = new VerReplyClassifier(request);
  const done = await exchange<Outcome>(options, {
    onConnect: () => buildVerRequest(request),
    onData: (chunk) => classifier.push(chunk),
    onEnd: () => classifier.end('close'),
    onTimeout: (phase) => (phase === 'connect' ? { status: 'timeout', reply: null, phase } : classifier.end('timeout')),
    onError: (errno, phase) => outcomeForErrno(errno, phase),
  });
  const measured: Measured = { elapsedMs: done.elapsedMs, bytesReceived: done.bytesReceived };
  if (done.bytesReceived > 0) measured.firstBytes = bytesToHex(done.firstBytes);
  if (classifier.unsolicited.length > 0) measured.unsolicited = [...classifier.unsolicited];
  if (done.transcript) measured.transcript = done.transcript;
  return { ...done.result, ...measured };
}
