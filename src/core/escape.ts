/**
 * Text from the network must never reach a terminal raw: a hostile server could move the cursor,
 * retitle the window or hide rows. Strings here are byte strings (latin1, one char per byte).
 */
export function escapeText(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (code >= 0x20 && code < 0x7f) out += ch;
    else if (ch === '\r') out += '\\r';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (code <= 0xff) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += `\\u{${code.toString(16)}}`;
  }
  return out;
}

/** Escapes, then shortens to at most `max` visible characters (the cut is marked with `...`). */
export function escapeAndClip(text: string, max: number): string {
  const escaped = escapeText(text);
  return escaped.length <= max ? escaped : `${escaped.slice(0, Math.max(0, max - 3))}...`;
}

/** Bytes as a latin1 string: lossless, so JSON can carry exactly what the server sent. */
export function bytesToText(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
