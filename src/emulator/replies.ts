/**
 * Reply builders shared by the emulator and the tests, so both speak of the same bytes.
 * Every builder returns the exact wire text, CRLF included.
 */

import { randomBytes } from 'node:crypto';

export const CRLF = '\r\n';

export function msnpTokens(versions: readonly number[]): string {
  return versions.map((v) => `MSNP${v}`).join(' ');
}

/** `VER 1 MSNP8` (Escargot) or, with `cvr0`, `VER 1 MSNP8 CVR0` (Microsoft's echo). */
export function verAccepted(trId: number | string, versions: readonly number[], cvr0 = false): string {
  return `VER ${trId} ${msnpTokens(versions)}${cvr0 ? ' CVR0' : ''}${CRLF}`;
}

/** `VER 1 0`, or the 2017 Escargot form `VER 1 0 MSNP21 ... MSNP2` with the server's own list. */
export function verRejected(trId: number | string, ownList: readonly number[] = []): string {
  return `VER ${trId} 0${ownList.length ? ` ${msnpTokens(ownList)}` : ''}${CRLF}`;
}

/** `VER 1 CVR0`: no common protocol version, only the CVR0 fallback. */
export function verCvr0Only(trId: number | string): string {
  return `VER ${trId} CVR0${CRLF}`;
}

export function errorLine(code: number, trId: number | string): string {
  return `${code} ${trId}${CRLF}`;
}

export function outLine(reason?: string): string {
  return `OUT${reason ? ` ${reason}` : ''}${CRLF}`;
}

/** What an SMTP server says before the client speaks. */
export const SMTP_BANNER = `220 emulator.invalid ESMTP msnp-emulator${CRLF}`;
export const SMTP_UNKNOWN_COMMAND = `502 5.5.2 Error: command not recognized${CRLF}`;

/** What a web server says to a request line it cannot parse. */
export const HTTP_BAD_REQUEST = [
  'HTTP/1.1 400 Bad Request',
  'Content-Type: text/plain',
  'Content-Length: 11',
  'Connection: close',
  '',
  'Bad Request',
].join(CRLF);

/** A TLS alert record (handshake failure), as a TLS server sends to a plaintext client. */
export const TLS_ALERT = Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28]);

/** Binary noise that starts with a NUL byte and holds invalid UTF-8. */
export const GARBAGE = Buffer.from([
  0x00, 0xff, 0xfe, 0x80, 0x13, 0x37, 0xc3, 0x28, 0x0d, 0x0a, 0x00, 0x9b, 0x32, 0x4a,
]);

/** A VER-shaped reply carrying terminal escape sequences (clear screen, retitle, colour). */
export function escapeReply(trId: number | string, version: number): string {
  return `VER ${trId} MSNP${version} \x1b[2J\x1b]0;pwned\x07\x1b[31mCVR0\x1b[0m${CRLF}`;
}

/** `CVR t <recommended> <recommended> <minimum> <download-url> <info-url>`. */
export function cvrReply(
  trId: number,
  recommended: string,
  minimum: string,
  downloadUrl: string,
  infoUrl: string,
): string {
  return `CVR ${trId} ${recommended} ${recommended} ${minimum} ${downloadUrl} ${infoUrl}${CRLF}`;
}

export function infReply(trId: number): string {
  return `INF ${trId} MD5${CRLF}`;
}

/** The salt of an MD5 challenge (fixed, so tests can compare). */
export const MD5_SALT = '1013928519.693957190';
/** The Tweener policy Escargot answers with. */
export const TWN_POLICY = 'ct=1,rver=1,wp=FS_40SEC_0_COMPACT,lc=1,id=1';
/** A fixed base64 nonce for SSO challenges. */
export const SSO_NONCE = Buffer.from('msnp-probe emulator nonce').toString('base64');

export function usrChallenge(trId: number, method: 'MD5' | 'TWN' | 'SSO'): string {
  const rest = method === 'MD5' ? MD5_SALT : method === 'TWN' ? TWN_POLICY : `MBI_KEY_OLD ${SSO_NONCE}`;
  return `USR ${trId} ${method} S ${rest}${CRLF}`;
}

/** Pads an XML document with spaces before its last closing tag to exactly `size` bytes. */
function padXml(xml: string, size: number): string {
  const at = xml.lastIndexOf('</');
  const missing = size - Buffer.byteLength(xml, 'latin1');
  if (missing < 0) throw new Error(`emulator payload is ${-missing} bytes too long`);
  return `${xml.slice(0, at)}${' '.repeat(missing)}${xml.slice(at)}`;
}

/** Size of the Policies payload Escargot sends as `GCF 0 1187` before `USR ... S` (docs/PROTOCOL.md). */
export const GCF_POLICIES_BYTES = 1187;

/** The Policies payload Escargot sends as `GCF 0 <len>` before `USR ... S` from MSNP13 (its size is Escargot's). */
export const GCF_POLICIES = padXml(
  [
    '<?xml version="1.0" encoding="utf-8" ?><Policies><Policy type="SHIELDS"><config><shield>',
    '<cli maj="7" min="0" minbld="0" maxbld="9999" deny=" " /></shield>',
    '<block></block></config></Policy><Policy type="ABCH"><policy>',
    '<set id="push" service="ABCH" priority="200"><r id="pushstorage" threshold="180000" /></set>',
    '<set id="delaysup" service="ABCH" priority="150"><r id="whatsnew" threshold="1800000" />',
    '<r id="whatsnew_self" threshold="1800000" /><r id="sharing" threshold="1800000" /></set>',
    '<c id="PROFILE_Rampup">100</c></policy></Policy><Policy type="ERRORRESPONSETABLE">',
    '<Feature type="3" name="P2P"><Entry hr="0x81000398" action="3"/><Entry hr="0x82000020" action="3"/></Feature>',
    '<Feature type="4"><Entry hr="0x81000440" /></Feature></Policy>',
    '<Policy type="P2P"><ObjStore><SIP enabled="false" /></ObjStore></Policy></Policies>',
  ].join(''),
  GCF_POLICIES_BYTES,
);

export function gcfPolicies(): string {
  return `GCF 0 ${Buffer.byteLength(GCF_POLICIES, 'latin1')}${CRLF}${GCF_POLICIES}`;
}

/** Size of Escargot's answer to `GCF t Shields.xml` (docs/PROTOCOL.md). */
export const GCF_SHIELDS_BYTES = 151;

/** The Shields.xml document Escargot sends for `GCF t Shields.xml` (its size is Escargot's). */
export const GCF_SHIELDS = padXml(
  '<?xml version="1.0" encoding="utf-8" ?><config><shield>' +
    '<cli maj="7" min="0" minbld="0" maxbld="9999" deny=" " /></shield><block></block></config>',
  GCF_SHIELDS_BYTES,
);

/** `GCF t Shields.xml 151` + the document (Escargot, MSNP11+). */
export function gcfShields(trId: string): string {
  return `GCF ${trId} Shields.xml ${Buffer.byteLength(GCF_SHIELDS, 'latin1')}${CRLF}${GCF_SHIELDS}`;
}

/**
 * A fresh MD5 salt as Escargot makes it: the Unix time with its fraction, as Python prints a float
 * (`1796121774.8132503`).
 */
export function freshMd5Salt(): string {
  const seconds = (performance.timeOrigin + performance.now()) / 1000;
  const text = String(seconds);
  // A whole second prints as `1796121774.0` in Python.
  return text.includes('.') ? text : `${text}.0`;
}

/** A fresh SSO nonce as Escargot makes it: 48 random bytes in base64 (64 characters). */
export function freshSsoNonce(): string {
  return randomBytes(48).toString('base64');
}

/** The XFR redirect of a dispatch server, in the layout of each protocol version. */
export function xfrReply(trId: number, version: number, nsAddress: string, clientAddress = '127.0.0.1:0'): string {
  let rest: string;
  if (version <= 2) rest = '';
  else if (version <= 6) rest = ' 0';
  else if (version <= 12) rest = ` 0 ${clientAddress}`;
  else if (version <= 20) rest = ' U D';
  else rest = ` U D ${Buffer.from('VerificationHop=msnp-probe').toString('base64')}`;
  return `XFR ${trId} NS ${nsAddress}${rest}${CRLF}`;
}
