import { isIP, isIPv4 } from 'node:net';
import { msnpError } from '../core/errors.js';
import { normalizeHost, parseIPv4 } from './address.js';

export { DEFAULT_PORT } from '../core/defaults.js';
import { DEFAULT_PORT } from '../core/defaults.js';

export interface Target {
  host: string;
  port: number;
}

/**
 * net.isIP, without the first-use cost of Node's IPv6 pattern (V8 compiles it: milliseconds of a
 * one-target run) for text that cannot be IPv6: every IPv6 literal has a colon, `host:port` has one.
 */
function ipFamily(text: string): number {
  if (!text.includes(':')) return isIPv4(text) ? 4 : 0;
  return text.indexOf(':') === text.lastIndexOf(':') ? 0 : isIP(text);
}

/** One DNS label: 1-63 letters, digits, `_` or `-`, not starting or ending with `-`. */
const LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?';
const HOSTNAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*\\.?$`);

export function parsePort(text: string | number, what = 'port'): number {
  const s = String(text).trim();
  if (!/^\d{1,5}$/.test(s)) throw msnpError('ERR_TARGET', `${what} '${s}' is not a number from 1 to 65535`);
  const port = Number(s);
  if (port < 1 || port > 65535) throw msnpError('ERR_TARGET', `${what} ${port} is outside 1..65535`);
  return port;
}

/**
 * Checks a bare host: an IPv4/IPv6 literal (brackets allowed) or a DNS name. Returns it unbracketed
 * and in one spelling (see normalizeHost): `127.1` and `2130706433` are 127.0.0.1, names lower case.
 */
export function parseHost(text: string): string {
  let host = text.trim();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === '') throw msnpError('ERR_TARGET', 'the host is empty');
  if (ipFamily(host) !== 0 || parseIPv4(host) !== null) return normalizeHost(host);
  if (!HOSTNAME.test(host)) throw msnpError('ERR_TARGET', `'${host}' is not a valid host name or IP address`);
  return normalizeHost(host);
}

/**
 * Parses `HOST`, `HOST:PORT`, `[v6]`, `[v6]:PORT`, a bare IPv6 literal, or `msnp://host:port`.
 * `defaultPort` is used when the text names none.
 */
export function parseTarget(text: string, defaultPort = DEFAULT_PORT): Target {
  let s = text.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(s);
  if (scheme) {
    if (scheme[1]?.toLowerCase() !== 'msnp') throw msnpError('ERR_TARGET', `'${s}': only msnp:// URLs are understood`);
    s = s.slice(scheme[0].length).replace(/\/+$/, '');
  }
  if (s === '') throw msnpError('ERR_TARGET', 'the target is empty');
  if (s.startsWith('[')) {
    const m = /^\[([^\]]*)\](?::(.*))?$/.exec(s);
    if (!m) throw msnpError('ERR_TARGET', `'${s}' is not [IPv6]:PORT`);
    const host = m[1] ?? '';
    if (isIP(host) !== 6) throw msnpError('ERR_TARGET', `'${host}' is not an IPv6 address`);
    return { host: normalizeHost(host), port: m[2] === undefined ? defaultPort : parsePort(m[2]) };
  }
  if (ipFamily(s) === 6) return { host: normalizeHost(s), port: defaultPort };
  const colon = s.lastIndexOf(':');
  if (colon === -1) return { host: parseHost(s), port: defaultPort };
  if (s.indexOf(':') !== colon)
    throw msnpError('ERR_TARGET', `'${s}': write IPv6 addresses with a port as [addr]:port`);
  return { host: parseHost(s.slice(0, colon)), port: parsePort(s.slice(colon + 1)) };
}

/** `[::1]:1863` for IPv6, `host:1863` otherwise. */
export function formatTarget(target: Target): string {
  return ipFamily(target.host) === 6 ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}
