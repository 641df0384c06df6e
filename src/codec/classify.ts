import { errorCodeName, isBusyCode } from './error-codes.js';
import { LineReader, DEFAULT_MAX_LINE_BYTES, type Frame } from './lines.js';
import { MAX_UNSOLICITED_LINES } from '../core/limits.js';
import { parseMessage, versionsIn, isPrintableAscii } from './message.js';
import type { Outcome, UnexpectedReason } from './outcome.js';

export interface VerRequest {
  trId: number;
  /** Versions offered, in the order sent. One for a per-version probe, many for the combined offer. */
  offered: readonly number[];
}

export { MAX_UNSOLICITED_LINES } from '../core/limits.js';

/** `VER 1 MSNP8 CVR0\r\n`: the request as bytes on the wire. */
export function buildVerRequest(request: VerRequest): string {
  // Concatenated rather than mapped and joined: this runs once per connection, and the array and
  // the token strings of `map` were garbage the moment `join` returned.
  const { offered } = request;
  if (offered.length === 1) return `VER ${request.trId} MSNP${offered[0]} CVR0\r\n`;
  let line = `VER ${request.trId} `;
  for (let i = 0; i < offered.length; i++) line += i === 0 ? `MSNP${offered[i]}` : ` MSNP${offered[i]}`;
  return `${line} CVR0\r\n`;
}

/**
 * How any reply line reads before the command it answers is considered: the one mapping that the VER
 * step (`classifyLine`) and the deep steps (`DeepConversation`) share, so a line means the same in both.
 */
export type ReplyReading =
  /** Not MSNP, or the server's OUT: it ends an exchange whatever was asked. */
  | { kind: 'end'; outcome: Extract<Outcome, { status: 'unexpected' | 'closed' }> & { reply: string } }
  /** A numeric error; `outcome.trId` is the trId it names (null when none). */
  | { kind: 'error'; outcome: Extract<Outcome, { status: 'error' }> }
  /** A command with trId 0 or none: a notice, not an answer. */
  | { kind: 'unsolicited' }
  | { kind: 'ver'; trId: number | null; args: string[] }
  /** A command naming a trId: an answer, to be matched against the command in flight. */
  | { kind: 'command'; command: string; trId: number; args: string[] };

export function readReply(line: string): ReplyReading {
  const msg = parseMessage(line);
  switch (msg.type) {
    case 'invalid':
      return { kind: 'end', outcome: { status: 'unexpected', reply: line, reason: notMsnpReason(line) } };
    case 'out':
      return { kind: 'end', outcome: { status: 'closed', reply: line, out: msg.reason ?? '' } };
    case 'error': {
      const { code, trId } = msg;
      return {
        kind: 'error',
        outcome: { status: 'error', reply: line, code, codeName: errorCodeName(code), trId, busy: isBusyCode(code) },
      };
    }
    case 'ver':
      return { kind: 'ver', trId: msg.trId, args: msg.args };
    case 'command':
      if (msg.trId === null || msg.trId === 0) return { kind: 'unsolicited' };
      return { kind: 'command', command: msg.command, trId: msg.trId, args: msg.args };
  }
}

/** A line longer than the cap, for the VER step and the deep steps alike. */
export function lineTooLong(): Extract<Outcome, { status: 'unexpected' }> {
  return { status: 'unexpected', reply: null, reason: 'too-long' };
}

/** Decides the status of a complete first reply line. `undefined` means "not an answer, keep reading". */
export function classifyLine(line: string, request: VerRequest): Outcome | undefined {
  const read = readReply(line);
  switch (read.kind) {
    case 'end':
    case 'error':
      return read.outcome;
    case 'unsolicited':
      return undefined;
    case 'command':
      return { status: 'mismatch', reply: line, reason: 'command', trId: read.trId, versions: [] };
    case 'ver':
      return verOutcome(line, read, request);
  }
}

/** A VER line as the answer to `request`. */
function verOutcome(line: string, msg: { trId: number | null; args: string[] }, request: VerRequest): Outcome {
  if (msg.trId !== request.trId) {
    return { status: 'mismatch', reply: line, reason: 'trid', trId: msg.trId, versions: versionsIn(msg.args) };
  }
  const versions = versionsIn(msg.args);
  if (msg.args[0] === '0') return { status: 'rejected', reply: line, form: 'zero', serverVersions: versions };
  const cvr0 = msg.args.some((a) => a.toUpperCase() === 'CVR0');
  if (versions.length === 0) {
    return cvr0
      ? { status: 'rejected', reply: line, form: 'cvr0-only', serverVersions: [] }
      : { status: 'unexpected', reply: line, reason: 'malformed' };
  }
  const chosen = versions[0] ?? 0;
  if (!request.offered.includes(chosen)) {
    return { status: 'mismatch', reply: line, reason: 'version', trId: msg.trId, versions };
  }
  return { status: 'accepted', reply: line, version: chosen, versions, cvr0 };
}

const V = 0x56;
const E = 0x45;
const R = 0x52;
const SPACE = 0x20;
const ZERO = 0x30;
const NINE = 0x39;
const CR_BYTE = 0x0d;

/**
 * The common answer read straight from the bytes: `VER <trId> MSNPn [MSNPm ...] [CVR0]` naming the
 * request's trId and, first, a version it offered, tokens upper case and one space apart. `bytes`
 * up to `end` is the whole line without its line end. Undefined for anything else, which the
 * general parser (`classifyLine`) then decides; where this answers, it answers exactly as that
 * parser would (test/reply-fast-path.unit.test.ts holds it to that).
 */
export function fastVerReply(bytes: Uint8Array, end: number, request: VerRequest): Outcome | undefined {
  if (end < 10 || bytes[0] !== V || bytes[1] !== E || bytes[2] !== R || bytes[3] !== SPACE) return undefined;
  // Plain loops, no token strings: this runs once per connection.
  let i = 4;
  let trId = 0;
  while (i < end && i < 14) {
    const b = bytes[i] as number;
    if (b < ZERO || b > NINE) break;
    trId = trId * 10 + (b - ZERO);
    i++;
  }
  if (i === 4 || trId !== request.trId) return undefined;
  const versions: number[] = [];
  let cvr0 = false;
  while (i < end) {
    // One space, then MSNP and 1 to 3 digits, or CVR0; each token ends at a space or the line's end.
    if (bytes[i] !== SPACE) return undefined;
    i++;
    if (bytes[i] === 0x4d && bytes[i + 1] === 0x53 && bytes[i + 2] === 0x4e && bytes[i + 3] === 0x50) {
      i += 4;
      const from = i;
      let v = 0;
      while (i < end && i - from < 3) {
        const b = bytes[i] as number;
        if (b < ZERO || b > NINE) break;
        v = v * 10 + (b - ZERO);
        i++;
      }
      if (i === from) return undefined;
      versions.push(v);
    } else if (bytes[i] === 0x43 && bytes[i + 1] === 0x56 && bytes[i + 2] === R && bytes[i + 3] === ZERO) {
      cvr0 = true;
      i += 4;
    } else return undefined;
    if (i < end && bytes[i] !== SPACE) return undefined;
  }
  const chosen = versions[0];
  if (chosen === undefined || !request.offered.includes(chosen)) return undefined;
  const reply = Buffer.isBuffer(bytes)
    ? bytes.toString('latin1', 0, end)
    : Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('latin1');
  return { status: 'accepted', reply, version: chosen, versions, cvr0 };
}

/** Why a line or byte run is not MSNP, for the report. */
export function notMsnpReason(text: string): UnexpectedReason {
  const first = text.charCodeAt(0);
  if (first === 0x16 || first === 0x15) return 'tls';
  if (text.startsWith('HTTP/')) return 'http';
  if (/^(SSH-|\d{3}[ -]|\+OK|\* OK|-ERR)/.test(text)) return 'banner';
  if (!isPrintableAscii(text)) return 'binary';
  return 'text';
}

/** Could these bytes still become an MSNP line if more arrived? (`VER 1 MSN` yes, `HTTP/1.` no.) */
export function couldBeMsnp(partial: string): boolean {
  return /^(?:[A-Z]{0,3}|[A-Z]{3} [\x20-\x7e]*|\d{1,3}|\d{3} [\x20-\x7e]*)\r?$/.test(partial);
}

/**
 * What a stream that ended (`close`) or ran out of time (`timeout`) before a complete reply says,
 * judged by the partial line left over: bytes that can no longer be MSNP are `unexpected`.
 */
export function streamEndOutcome(
  pending: Uint8Array,
  how: 'close' | 'timeout',
): Extract<Outcome, { status: 'unexpected' | 'closed' | 'timeout' }> {
  const partial = Buffer.from(pending).toString('latin1');
  if (partial !== '' && !couldBeMsnp(partial))
    return { status: 'unexpected', reply: null, reason: notMsnpReason(partial) };
  return how === 'close'
    ? { status: 'closed', reply: null, out: null }
    : { status: 'timeout', reply: null, phase: 'reply' };
}

const NO_LINES: readonly string[] = Object.freeze([]);
const NO_BYTES = new Uint8Array(0);

/**
 * Reads a VER reply from bytes in any chunking. Feed `push` until it returns an outcome; if the
 * stream ends or the deadline passes first, `end` decides from what is buffered.
 */
export class VerReplyClassifier {
  readonly #request: VerRequest;
  // The reader, and the arrays below, are made only when a reply needs them: the usual reply (one
  // whole line in one chunk, read by `fastVerReply`) needs none, and this runs once per connection.
  #reader: LineReader | undefined;
  readonly #maxLineBytes: number;
  #seenAny = false;
  #unsolicited: string[] | undefined;
  #outcome: Outcome | undefined;
  #leftover: Frame[] | undefined;

  constructor(request: VerRequest, maxLineBytes = DEFAULT_MAX_LINE_BYTES) {
    this.#request = request;
    this.#maxLineBytes = maxLineBytes;
  }

  #lineReader(): LineReader {
    this.#reader ??= new LineReader({ maxLineBytes: this.#maxLineBytes });
    return this.#reader;
  }

  /** Complete unsolicited lines skipped before the reply (e.g. `OUT`-free notices with trId 0). */
  get unsolicited(): readonly string[] {
    return this.#unsolicited ?? NO_LINES;
  }

  get outcome(): Outcome | undefined {
    return this.#outcome;
  }

  #settle(outcome: Outcome): Outcome {
    this.#outcome = outcome;
    return outcome;
  }

  push(chunk: Uint8Array): Outcome | undefined {
    if (this.#outcome || chunk.length === 0) return this.#outcome;
    if (!this.#seenAny) {
      this.#seenAny = true;
      const first = chunk[0] ?? 0;
      // A TLS record or raw binary shows at the first byte; waiting for a newline would only waste the deadline.
      if (first === 0x16 || first === 0x15 || (first < 0x20 && first !== 0x0d && first !== 0x0a) || first === 0x7f) {
        return this.#settle({
          status: 'unexpected',
          reply: null,
          reason: first === 0x16 || first === 0x15 ? 'tls' : 'binary',
        });
      }
    }
    // The usual reply: one whole line in one chunk, nothing before it. Read from the bytes, it
    // leaves the reader as the general path would (empty), and nothing behind it to hand over.
    const last = chunk.length - 1;
    const reader = this.#reader;
    if (chunk[last] === 0x0a && (reader === undefined || (reader.pending.length === 0 && !reader.inPayload))) {
      const end = last > 0 && chunk[last - 1] === CR_BYTE ? last - 1 : last;
      if (last <= this.#maxLineBytes && chunk.indexOf(0x0a) === last) {
        const fast = fastVerReply(chunk, end, this.#request);
        if (fast) return this.#settle(fast);
      }
    }
    const frames = this.#lineReader().push(chunk);
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i] as Frame;
      if (frame.kind === 'violation') {
        return this.#settle(lineTooLong());
      }
      if (frame.kind === 'line') {
        const outcome = classifyLine(frame.text, this.#request);
        if (outcome) {
          this.#leftover = frames.slice(i + 1);
          return this.#settle(outcome);
        }
      }
      // One line past the allowance ends the wait: it becomes the reply, not another skipped line.
      this.#unsolicited ??= [];
      const unsolicited = this.#unsolicited;
      if (unsolicited.length >= MAX_UNSOLICITED_LINES) {
        return this.#settle({ status: 'mismatch', reply: frame.text, reason: 'command', trId: null, versions: [] });
      }
      unsolicited.push(frame.text);
    }
    return undefined;
  }

  /**
   * After the verdict: frames that arrived behind the reply in the same chunk, and the reader
   * holding any partial line, so a conversation can go on where the VER reply ended.
   */
  handOver(): { frames: Frame[]; reader: LineReader } {
    const frames = this.#leftover ?? [];
    this.#leftover = undefined;
    return { frames, reader: this.#lineReader() };
  }

  /** The stream ended (`close`) or the reply deadline passed (`timeout`) with no verdict yet. */
  end(how: 'close' | 'timeout'): Outcome {
    this.#outcome ??= streamEndOutcome(this.#reader?.pending ?? NO_BYTES, how);
    return this.#outcome;
  }
}

/** Classifies a whole recorded reply at once: the chunks as received, then how the stream ended. */
export function classifyChunks(
  request: VerRequest,
  chunks: Iterable<Uint8Array>,
  how: 'close' | 'timeout' = 'close',
): Outcome {
  const classifier = new VerReplyClassifier(request);
  for (const chunk of chunks) {
    const outcome = classifier.push(chunk);
    if (outcome) return outcome;
  }
  return classifier.end(how);
}
