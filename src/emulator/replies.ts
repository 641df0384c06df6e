/**
 * Reply builders shared by the emulator and the tests, so both speak of the same bytes.
 * Every builder returns the exact wire text, CRLF included.
 */

export const CRLF = '\r\n';

export function msnpTokens(versions: readonly number[]): string {
  return versions.map((v) => `MSNP${v}`).join(' ');
}

/** `VER 1 MSNP8` (Escargot) or, with `cvr0`, `VER 1 MSNP8 CVR0` (Microsoft's echo). */
export function verAccepted(trId: number, versions: readonly number[], cvr0 = false): string {
  return `VER ${trId} ${msnpTokens(versions)}${cvr0 ? ' CVR0' : ''}${CRLF}`;
}

/** `VER 1 0`, or the 2017 Escargot form `VER 1 0 MSNP21 ... MSNP2` with the server's own list. */
export function verRejected(trId: number, ownList: readonly number[] = []): string {
  return `VER ${trId} 0${ownList.length ? ` ${msnpTokens(ownList)}` : ''}${CRLF}`;
}

/** `VER 1 CVR0`: no common protocol version, only the CVR0 fallback. */
export function verCvr0Only(trId: number): string {
  return `VER ${trId} CVR0${CRLF}`;
}

export function errorLine(code: number, trId: number): string {
  return `${code} ${trId}${CRLF}`;
}

export function outLine(reason?: string): string {
  return `OUT${reason ? ` ${reason}` : ''}${CRLF}`;
}

/** What an SMTP server says before the client speaks. */
export const SMTP_BANNER = `220 emulator.invalid ESMTP msnp-emulator${CRLF}`;
export const SMTP_UNKNOWN_COMMAND = `502 5.5.2 Error: command not recognized${CRLF}`;

/** What a web server says to a request line it cannot parse. */
export const HTTP_BAD_REQUEST =
  `HTTP/1.1 400 Bad Request${CRLF}Content-Type: text/plain${CRLF}Content-Length: 11${CRLF}Connection: close${CRLF}${CRLF}Bad Request`;

/** A TLS alert record (handshake failure), as a TLS server sends to a plaintext client. */
export const TLS_ALERT = Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28]);

/** Binary noise that starts with a NUL byte and holds invalid UTF-8. */
export const GARBAGE = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x13, 0x37, 0xc3, 0x28, 0x0d, 0x0a, 0x00, 0x9b, 0x32, 0x4a]);

/** A VER-shaped reply carrying terminal escape sequences (clear screen, retitle, colour). */
export function escapeReply(trId: number, version: number): string {
  return `VER ${trId} MSNP${version} \x1b[2J\x1b]0;pwned\x07\x1b[31mCVR0\x1b[0m${CRLF}`;
}
