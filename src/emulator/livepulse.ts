import { randomUUID } from 'node:crypto';
import { CLOSE, send, type Action } from './actions.js';
import type { Profile } from './profiles.js';
import * as reply from './replies.js';

/** The password of every account the `remessenger` profile knows (only CTP, at MSNP2, sends one). */
export const REMESSENGER_PASSWORD = 'probe-password';
const CVR_URL = 'http://remessenger.invalid/download';
const METHODS = new Set(['CTP', 'MD5', 'TWN', 'SSO', 'SHA']);
const HTTP_METHODS = new Set(['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'CONNECT', 'PATCH', 'TRACE']);

/** What one line did: its actions, and whether the rest of the read is dropped unread. */
export interface LineOutcome {
  actions: Action[];
  dropRest: boolean;
}

/**
 * Splits one TCP read the way LivePulse does: the read must end in CRLF and hold no bare LF, or
 * the connection dies (null). Read boundaries matter: a line split over two reads kills it.
 */
export function livePulseLines(chunk: Buffer): string[] | null {
  const n = chunk.length;
  if (n < 2 || chunk[n - 2] !== 0x0d || chunk[n - 1] !== 0x0a) return null;
  const lines = chunk.toString('latin1', 0, n - 2).split('\r\n');
  return lines.some((l) => l.includes('\n')) ? null : lines;
}

/** Which version range takes `method` as its first login step (SHA never succeeds). */
function fits(method: string, version: number): boolean {
  switch (method) {
    case 'CTP':
      return version === 2;
    case 'MD5':
      return version >= 3 && version <= 7;
    case 'TWN':
      return version >= 8 && version <= 14;
    case 'SSO':
      return version >= 15 && version <= 20;
    default:
      return method === 'SHA' && version >= 17;
  }
}

/**
 * One connection to an emulated ReMessenger "LivePulse" server (docs/PROTOCOL.md, "ReMessenger").
 * Commands are case-sensitive; an unknown one is ignored together with the rest of its read.
 */
export class LivePulseBehaviour {
  /** The session's version: the highest supported one of the last accepted VER. */
  #version: number | undefined;
  readonly #profile: Profile;
  readonly #accounts: ReadonlySet<string>;

  constructor(profile: Profile) {
    this.#profile = profile;
    this.#accounts = new Set(profile.accounts ?? []);
  }

  line(line: string): LineOutcome {
    const tokens = line.split(' ').filter((t) => t !== '');
    const command = tokens[0] ?? '';
    const trId = tokens[1] ?? '';
    const done = (actions: Action[]): LineOutcome => ({ actions, dropRest: false });
    switch (command) {
      case 'VER':
        return done(this.#ver(trId, tokens.slice(2)));
      case 'CVR': {
        const args = tokens.slice(2);
        if (args.length < 6 || args.length > 8) return done([send(reply.errorLine(731, trId)), CLOSE]);
        const v = args[5] ?? '';
        return done([send(`CVR ${trId} ${v} ${v} 1.0.0000 ${CVR_URL} ${CVR_URL}\r\n`)]);
      }
      case 'INF': {
        const v = this.#version ?? 0;
        if (v === 2) return done([send(`INF ${trId} CTP\r\n`)]);
        if (v >= 3 && v <= 7) return done([send(`INF ${trId} MD5\r\n`)]);
        return done([send(reply.errorLine(502, trId))]);
      }
      case 'USR':
        return done(this.#usr(trId, tokens.slice(2)));
      case 'OUT':
        return done([send(`${line}\r\n`), CLOSE]);
      case 'GCF':
        if ((this.#version ?? 0) >= 13 && tokens[2] !== undefined) {
          // A trailing space after the length, and a length in characters (not bytes), as LivePulse writes it.
          return done([send(`GCF ${trId} ${tokens[2]} ${reply.GCF_SHIELDS.length} \r\n${reply.GCF_SHIELDS}`)]);
        }
        return { actions: [], dropRest: true };
      default:
        // An HTTP request (a gateway client) is not answered: the connection is closed.
        if (HTTP_METHODS.has(command) && / HTTP\/1\.[01]$/.test(line)) return done([CLOSE]);
        return { actions: [], dropRest: true };
    }
  }

  #ver(trId: string, offer: string[]): Action[] {
    if (!/^\d+$/.test(trId)) return [CLOSE];
    const end = offer.findIndex((t) => t.toUpperCase() === 'CVR0');
    if (end === -1) return [send(reply.verRejected(trId)), CLOSE];
    // Only what follows the fourth character is read as the number: any four characters then `8` (`ABCD8`) is MSNP8.
    const supported = offer
      .slice(0, end)
      .map((t) => (/^\d+$/.test(t.slice(4)) ? Number(t.slice(4)) : NaN))
      .filter((v) => this.#profile.versions.includes(v))
      .sort((a, b) => b - a);
    const first = supported[0];
    if (first === undefined) return [send(reply.verRejected(trId)), CLOSE];
    this.#version = first;
    return [send(reply.verAccepted(trId, supported, true))];
  }

  #usr(trId: string, args: string[]): Action[] {
    const fail = [send(reply.errorLine(911, trId)), CLOSE];
    const [method, stage, account, password] = args;
    if (method === undefined || stage === undefined || account === undefined || !METHODS.has(method)) return fail;
    const v = this.#version ?? 0;
    if (!fits(method, v)) return [send(reply.errorLine(502, trId)), CLOSE];
    if (method === 'SHA' || stage !== 'I' || !this.#accounts.has(account.toLowerCase())) return fail;
    switch (method) {
      case 'CTP':
        return password === REMESSENGER_PASSWORD ? [send(`USR ${trId} OK ${account} ${account}\r\n`)] : fail;
      case 'MD5':
        return [send(`USR ${trId} MD5 S ${reply.freshMd5Salt()}\r\n`)];
      case 'TWN':
        return [send(`USR ${trId} TWN S ${reply.TWN_POLICY}\r\n`)];
      default:
        // SSO is answered under the wrong method name, as LivePulse does.
        return [send(`USR ${trId} TWN S ${randomUUID()}\r\n`)];
    }
  }
}
