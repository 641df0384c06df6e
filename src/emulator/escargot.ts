import { CLOSE, send, type Action } from './actions.js';
import type { EscargotTraits, Profile } from './profiles.js';
import * as reply from './replies.js';

const ESCARGOT_URL = 'https://escargot.log1p.xyz';
const METHODS = new Set(['MD5', 'TWN', 'SSO', 'SHA']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Python's int(): sign, digits, single underscores between digits, surrounding whitespace. */
function pythonInt(text: string): boolean {
  return /^\s*[+-]?\d+(_\d+)*\s*$/.test(text);
}

function validUtf8(latin1: string): boolean {
  // Plain ASCII, the usual case, needs no decoder.
  if (/^[\x00-\x7f]*$/.test(latin1)) return true;
  try {
    utf8.decode(Buffer.from(latin1, 'latin1'));
    return true;
  } catch {
    return false;
  }
}

/** Whether Escargot takes `method` as the first login step at `dialect` (0: before VER). */
function fits(method: string, dialect: number): boolean {
  if (method === 'MD5') return dialect <= 7;
  if (method === 'TWN') return dialect >= 8 && dialect <= 14;
  return method === 'SSO' && dialect >= 15;
}

/**
 * One connection to an emulated Escargot server, as its code behaves on the profile's date
 * (docs/PROTOCOL.md, "Escargot in detail" and "Escargot through time"). Lines arrive with
 * their line end removed, as latin1 text, so trIds are echoed byte for byte.
 */
export class EscargotBehaviour {
  /** The negotiated version; 0 before VER (Escargot still answers CVR, INF and MD5 then). */
  #dialect = 0;
  #verDone = false;
  /** Set by a blank line: Escargot's reader stops, nothing later is answered. */
  #jammed = false;
  /** The method whose `I` step was answered, so an `S` step has something to continue. */
  #started: string | undefined;
  readonly #profile: Profile;
  readonly #traits: EscargotTraits;
  // Fresh per connection, as Escargot makes them.
  readonly #salt = reply.freshMd5Salt();
  readonly #nonce = reply.freshSsoNonce();

  constructor(profile: Profile) {
    this.#profile = profile;
    if (!profile.escargot) throw new Error(`profile ${profile.name} has no Escargot traits`);
    this.#traits = profile.escargot;
  }

  line(line: string): Action[] {
    if (this.#jammed) return [];
    if (!validUtf8(line)) return [CLOSE];
    // Python's str.split(): any run of whitespace separates, tabs included.
    const tokens = line.split(/\s+/).filter((t) => t !== '');
    const command = tokens[0]?.toUpperCase();
    if (command === undefined) {
      this.#jammed = true;
      return [];
    }
    const args = tokens.slice(1);
    switch (command) {
      case 'VER':
        return this.#ver(args);
      case 'CVR':
        return this.#cvr(args);
      case 'INF':
        return this.#inf(args);
      case 'USR':
        return this.#usr(args);
      // OUT ends the connection; PNG before a login and GCF below MSNP11 make it close too.
      case 'OUT':
      case 'PNG':
        return [CLOSE];
      case 'GCF':
        return this.#gcf(args);
      default:
        return [];
    }
  }

  #ver(args: string[]): Action[] {
    const trId = args[0];
    // A bare VER is a call with too few arguments: Escargot swallows the error and reads on.
    if (trId === undefined) return [];
    if (this.#traits.trIdCheck && !pythonInt(trId)) return [CLOSE];
    if (this.#verDone && this.#traits.secondVer715) return [send(reply.errorLine(715, trId)), CLOSE];
    const offered = new Set(args.slice(1).map((t) => t.toUpperCase()));
    const own = this.#ownOrder();
    const chosen = own.find((v) => offered.has(`MSNP${v}`));
    if (chosen === undefined) {
      return this.#traits.reject === 'close'
        ? [send(reply.verRejected(trId)), CLOSE]
        : [send(reply.verRejected(trId, own))];
    }
    this.#verDone = true;
    this.#dialect = chosen;
    return [send(reply.verAccepted(trId, [chosen]))];
  }

  /** The versions in the order Escargot picks them (also its rejection list). */
  #ownOrder(): number[] {
    const { choice, versions } = this.#profile;
    const order = choice === 'client' ? [...versions].reverse() : choice;
    return order.filter((v) => versions.includes(v));
  }

  #cvr(args: string[]): Action[] {
    // Fewer than six fields after the trId: a call with too few arguments, swallowed.
    if (args.length < 7) return [];
    const trId = args[0] ?? '';
    const clientVersion = args[6] ?? '';
    return [send(`CVR ${trId} ${clientVersion} ${clientVersion} ${clientVersion} ${ESCARGOT_URL} ${ESCARGOT_URL}\r\n`)];
  }

  #inf(args: string[]): Action[] {
    const trId = args[0];
    if (trId === undefined) return [];
    if (this.#dialect >= 8) return this.#traits.authFitsVersion ? [CLOSE] : [send(reply.errorLine(502, trId))];
    return [send(`INF ${trId} MD5\r\n`)];
  }

  #usr(args: string[]): Action[] {
    const [trId, method, stage, handle] = args;
    if (trId === undefined || method === undefined) return [];
    const fail = [send(reply.errorLine(911, trId)), CLOSE];
    // Unknown and lower-case methods alike: authentication failed.
    if (!METHODS.has(method)) return fail;
    // SHA continues a login; with none under way there is nothing to answer.
    if (method === 'SHA') return [];
    if (this.#traits.authFitsVersion) {
      if (!fits(method, this.#dialect)) return [CLOSE];
    } else if (method === 'MD5' && this.#dialect >= 8) {
      return [send(reply.errorLine(502, trId))];
    }
    if (stage === undefined) return [];
    if (stage === 'S') return this.#started === method ? fail : [];
    if (stage !== 'I') return fail;
    if (handle === undefined) return [];
    if (!handle.includes('@')) return fail;
    // The emulator has no accounts: every handle is unknown.
    if (method === 'MD5' && this.#traits.md5UnknownHandle === '911') return fail;
    this.#started = method;
    const challenge =
      method === 'MD5'
        ? `USR ${trId} MD5 S ${this.#salt}\r\n`
        : method === 'TWN'
          ? `USR ${trId} TWN S ${reply.TWN_POLICY}\r\n`
          : `USR ${trId} SSO S MBI_KEY_OLD ${this.#nonce}\r\n`;
    const gcf = this.#traits.gcfBeforeUsr && this.#dialect >= 13 ? reply.gcfPolicies() : '';
    return [send(gcf + challenge)];
  }

  #gcf(args: string[]): Action[] {
    if (this.#dialect < 11) return [CLOSE];
    const [trId, file] = args;
    if (trId === undefined || file !== 'Shields.xml') return [];
    return [send(reply.gcfShields(trId))];
  }
}
