/**
 * A socket-free MSNP framer: bytes in, lines and payloads out. Caps are checked before anything is
 * buffered, so a server cannot grow our memory by withholding a newline or announcing a huge payload.
 */

/** Commands whose header line ends in a byte count followed by that many payload bytes. */
export const PAYLOAD_COMMANDS: ReadonlySet<string> = new Set([
  'MSG',
  'GCF',
  'UBX',
  'NOT',
  'IPG',
  'ADL',
  'RML',
  'FQY',
  'UBN',
  'UUN',
  'NFY',
  'SDG',
  'PUT',
  'DEL',
]);

export { DEFAULT_MAX_LINE_BYTES, DEFAULT_MAX_PAYLOAD_BYTES } from '../core/limits.js';
import { DEFAULT_MAX_LINE_BYTES, DEFAULT_MAX_PAYLOAD_BYTES } from '../core/limits.js';

export type Frame =
  /** A complete line, CRLF (or bare LF) removed, as a latin1 byte string. */
  | { kind: 'line'; text: string }
  /** A payload command: its header line and the payload bytes it announced. */
  | { kind: 'payload'; text: string; command: string; payload: Uint8Array }
  /** The stream broke a cap; the reader accepts nothing more. `pending` holds what was buffered. */
  | { kind: 'violation'; code: 'LINE_TOO_LONG' | 'PAYLOAD_TOO_LARGE'; pending: Uint8Array };

export interface LineReaderOptions {
  maxLineBytes?: number;
  maxPayloadBytes?: number;
  /** Whether payload commands are framed by their byte count (true) or read as plain lines. */
  payloads?: boolean;
}

const LF = 0x0a;
const CR = 0x0d;
/** Shared by every reader with nothing buffered: one per connection would be garbage per connection. */
const EMPTY = Buffer.alloc(0);

export class LineReader {
  readonly #maxLine: number;
  readonly #maxPayload: number;
  readonly #payloads: boolean;
  #buf: Buffer = EMPTY;
  /** Set while reading a payload: the header line and how many bytes are still owed. */
  #payload: { text: string; command: string; size: number } | undefined;
  #broken = false;

  constructor(options: LineReaderOptions = {}) {
    this.#maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.#maxPayload = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    this.#payloads = options.payloads ?? true;
  }

  /** Bytes received but not yet part of a frame (a partial line or payload). */
  get pending(): Uint8Array {
    return this.#buf;
  }

  /** True while the bytes of an announced payload are still owed (its header line was read). */
  get inPayload(): boolean {
    return this.#payload !== undefined;
  }

  /** True once a violation was reported; later input is ignored. */
  get broken(): boolean {
    return this.#broken;
  }

  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    if (this.#broken || chunk.length === 0) return frames;
    this.#buf = this.#buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buf, chunk]);
    for (;;) {
      if (this.#payload) {
        if (this.#buf.length < this.#payload.size) break;
        const payload = this.#buf.subarray(0, this.#payload.size);
        frames.push({
          kind: 'payload',
          text: this.#payload.text,
          command: this.#payload.command,
          payload: Uint8Array.from(payload),
        });
        this.#buf = this.#buf.subarray(this.#payload.size);
        this.#payload = undefined;
        continue;
      }
      const nl = this.#buf.indexOf(LF);
      const lineLength = nl === -1 ? this.#buf.length : nl;
      if (lineLength > this.#maxLine) {
        return this.#violate(frames, 'LINE_TOO_LONG', this.#buf.subarray(0, this.#maxLine));
      }
      if (nl === -1) break;
      const end = nl > 0 && this.#buf[nl - 1] === CR ? nl - 1 : nl;
      const text = this.#buf.toString('latin1', 0, end);
      this.#buf = this.#buf.subarray(nl + 1);
      const header = this.#payloads ? payloadHeader(text) : undefined;
      if (!header) {
        frames.push({ kind: 'line', text });
        continue;
      }
      if (header.size > this.#maxPayload) {
        return this.#violate(frames, 'PAYLOAD_TOO_LARGE', Buffer.from(text, 'latin1'));
      }
      this.#payload = { text, ...header };
    }
    // Copy the remainder so a small partial line does not pin a large chunk in memory.
    if (this.#buf.length > 0 && this.#buf.byteOffset !== 0) this.#buf = Buffer.from(this.#buf);
    return frames;
  }

  #violate(frames: Frame[], code: 'LINE_TOO_LONG' | 'PAYLOAD_TOO_LARGE', pending: Uint8Array): Frame[] {
    this.#broken = true;
    frames.push({ kind: 'violation', code, pending: Uint8Array.from(pending) });
    this.#buf = EMPTY;
    return frames;
  }
}

/** `GCF 0 1187` -> { command: 'GCF', size: 1187 }; anything else -> undefined. */
export function payloadHeader(text: string): { command: string; size: number } | undefined {
  const tokens = text.split(' ');
  const command = tokens[0] ?? '';
  if (!PAYLOAD_COMMANDS.has(command) || tokens.length < 2) return undefined;
  const last = tokens[tokens.length - 1] ?? '';
  if (!/^\d{1,10}$/.test(last)) return undefined;
  return { command, size: Number(last) };
}
