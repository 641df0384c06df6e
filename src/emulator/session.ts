import { authMethodFor } from '../codec/deep.js';
import { CLOSE, DEFAULT_DRIP_MS, send, type Action } from './actions.js';
import { EscargotBehaviour } from './escargot.js';
import { LivePulseBehaviour, livePulseLines, type LineOutcome } from './livepulse.js';
import { faultFor, type Fault } from './faults.js';
import type { Profile } from './profiles.js';
import * as reply from './replies.js';

export { DEFAULT_DRIP_MS, type Action } from './actions.js';

export interface SessionContext {
  /** `dispatch` answers the first USR with an XFR to `notificationAddress` (Microsoft profiles). */
  role: 'dispatch' | 'notification';
  notificationAddress?: string;
  /** How the client's address is written in an MSNP7-12 XFR. */
  clientAddress?: string;
}

/** URLs the Microsoft profiles give in CVR replies (historical client download and info pages). */
const MS_DOWNLOAD = 'http://download.microsoft.com/download/msnmessenger';
const MS_INFO = 'http://messenger.msn.com';

/**
 * One client connection's protocol state, free of sockets: lines in, actions out. This is the
 * whole behaviour of a profile and its faults, so it can be tested without a network.
 */
export class EmulatorSession {
  /** The negotiated version, once VER was accepted. */
  #dialect: number | undefined;
  #verDone = false;
  #hung = false;
  #claimOnly = false;
  readonly #profile: Profile;
  readonly #faults: readonly Fault[];
  readonly #context: SessionContext;
  readonly #escargot: EscargotBehaviour | undefined;
  readonly #livePulse: LivePulseBehaviour | undefined;
  /**
   * `lines`: the server feeds whole lines to onLine. `per-read`: it feeds each TCP read to onRead,
   * because the profile's framing depends on read boundaries (ReMessenger).
   */
  readonly framing: 'lines' | 'per-read';

  constructor(profile: Profile, faults: readonly Fault[] = [], context: SessionContext = { role: 'notification' }) {
    this.#profile = profile;
    this.#faults = faults;
    this.#context = context;
    this.#escargot = profile.family === 'escargot' ? new EscargotBehaviour(profile) : undefined;
    this.#livePulse = profile.family === 'remessenger' ? new LivePulseBehaviour(profile) : undefined;
    this.framing = this.#livePulse ? 'per-read' : 'lines';
  }

  /** One TCP read (per-read framing): a read that breaks the profile's framing closes silently. */
  onRead(chunk: Buffer): Action[] {
    const lines = livePulseLines(chunk);
    if (lines === null) return [CLOSE];
    const out: Action[] = [];
    for (const line of lines) {
      const outcome = this.#line(line);
      out.push(...outcome.actions);
      if (outcome.dropRest || outcome.actions.some((a) => a.type !== 'send')) break;
    }
    return out;
  }

  /** A fault that covers every version and speaks first (banner) does so on connect. */
  onConnect(): Action[] {
    const fault = faultFor(this.#faults, undefined);
    return fault?.mode === 'banner' ? [send(reply.SMTP_BANNER)] : [];
  }

  onLine(line: string): Action[] {
    return this.#line(line).actions;
  }

  #line(line: string): LineOutcome {
    if (this.#hung) return { actions: [], dropRest: false };
    if (!this.#escargot && !this.#livePulse) return { actions: this.#microsoftLine(line), dropRest: false };
    const tokens = line.split(/[ \t]+/).filter((t) => t !== '');
    // Faults act on what the profile takes as a VER: Escargot upper-cases commands, LivePulse does not.
    const command = this.#escargot ? tokens[0]?.toUpperCase() : tokens[0];
    const isVer = command === 'VER' && tokens[1] !== undefined;
    if (!isVer) {
      if (faultFor(this.#faults, undefined)?.mode === 'banner') {
        return { actions: [send(reply.SMTP_UNKNOWN_COMMAND)], dropRest: false };
      }
      if (this.#claimOnly) return { actions: [CLOSE], dropRest: false };
    }
    const normal = this.#escargot
      ? { actions: this.#escargot.line(line), dropRest: false }
      : (this.#livePulse?.line(line) ?? { actions: [], dropRest: false });
    if (!isVer) return normal;
    const offered = tokens.slice(2).flatMap((t) => {
      const m = /^MSNP(\d{1,3})$/i.exec(t);
      return m?.[1] ? [Number(m[1])] : [];
    });
    const fault = faultFor(this.#faults, offered[0]);
    if (!fault) return normal;
    return { actions: this.#faulty(fault, tokens[1] ?? '', offered, normal.actions), dropRest: false };
  }

  #microsoftLine(line: string): Action[] {
    const tokens = line.split(' ').filter((t) => t !== '');
    const raw = tokens[0] ?? '';
    const command = this.#profile.caseInsensitive ? raw.toUpperCase() : raw;
    if (command === 'VER') return this.#ver(tokens.slice(1));
    if (faultFor(this.#faults, undefined)?.mode === 'banner') return [send(reply.SMTP_UNKNOWN_COMMAND)];
    if (this.#claimOnly) return [CLOSE];
    const trIdText = tokens[1] ?? '';
    const known = command === 'CVR' || command === 'INF' || command === 'USR';
    if (known && this.#dialect !== undefined && /^\d{1,10}$/.test(trIdText)) {
      const trId = Number(trIdText);
      if (command === 'CVR') return this.#cvr(trId);
      if (command === 'INF') return this.#dialect <= 7 ? [send(reply.infReply(trId))] : [CLOSE];
      return this.#usr(trId, tokens.slice(2));
    }
    return this.#profile.unknownCommand === 'ignore' ? [] : [CLOSE];
  }

  #ver(args: string[]): Action[] {
    const trIdText = args[0] ?? '';
    // Microsoft closed on a VER without a trId; Escargot closes on a non-numeric one.
    if (!/^\d{1,10}$/.test(trIdText)) return [CLOSE];
    const trId = Number(trIdText);
    if (this.#verDone) return [send(reply.errorLine(715, trId)), CLOSE];
    this.#verDone = true;
    const offered: number[] = [];
    let cvr0 = false;
    for (const token of args.slice(1)) {
      const t = this.#profile.caseInsensitive ? token.toUpperCase() : token;
      const m = /^MSNP(\d{1,3})$/.exec(t);
      if (m?.[1]) offered.push(Number(m[1]));
      else if (t === 'CVR0') cvr0 = true;
    }
    const normal = this.#answer(trId, offered, cvr0);
    const fault = faultFor(this.#faults, offered[0]);
    return fault ? this.#faulty(fault, trId, offered, normal) : normal;
  }

  /** The profile's own answer to a VER; remembers the version it settled on. */
  #answer(trId: number, offered: number[], cvr0: boolean): Action[] {
    const p = this.#profile;
    const supported = offered.filter((v) => p.versions.includes(v));
    if (supported.length === 0) {
      return p.rejectForm === 'close'
        ? [send(reply.verRejected(trId)), CLOSE]
        : [send(reply.verRejected(trId, [...p.versions].reverse()))];
    }
    if (p.choice === 'client') {
      this.#dialect = supported[0];
      return [
        send(
          p.acceptForm === 'echo'
            ? reply.verAccepted(trId, supported, cvr0)
            : reply.verAccepted(trId, supported.slice(0, 1)),
        ),
      ];
    }
    const chosen = p.choice.find((v) => supported.includes(v)) ?? supported[0] ?? 0;
    this.#dialect = chosen;
    return [
      send(p.acceptForm === 'echo' ? reply.verAccepted(trId, [chosen], cvr0) : reply.verAccepted(trId, [chosen])),
    ];
  }

  #cvr(trId: number): Action[] {
    return [send(reply.cvrReply(trId, '7.5.0324', '6.0.0602', MS_DOWNLOAD, MS_INFO))];
  }

  #usr(trId: number, args: string[]): Action[] {
    const dialect = this.#dialect ?? 0;
    const [method, phase, handle] = args;
    if (phase !== 'I' || handle === undefined) return [CLOSE];
    // Both families only take the auth method of the negotiated version; Escargot closes silently otherwise.
    if (method !== authMethodFor(dialect)) return [CLOSE];
    if (this.#context.role === 'dispatch') {
      const ns = this.#context.notificationAddress ?? '0';
      return [send(reply.xfrReply(trId, dialect, ns, this.#context.clientAddress)), CLOSE];
    }
    return [send(reply.usrChallenge(trId, method))];
  }

  #faulty(fault: Fault, trId: number | string, offered: number[], normal: Action[]): Action[] {
    const first = offered[0] ?? 0;
    switch (fault.mode) {
      case 'close':
        return [CLOSE];
      case 'reset':
        return [{ type: 'reset' }];
      case 'hang':
        this.#hung = true;
        return [{ type: 'hang' }];
      case 'drip':
      case 'split':
        return normal.map((a) =>
          a.type === 'send' ? { ...a, style: fault.mode as 'drip' | 'split', dripMs: fault.arg ?? DEFAULT_DRIP_MS } : a,
        );
      case 'partial': {
        const data = normal.find((a) => a.type === 'send')?.data ?? Buffer.from(reply.verAccepted(trId, [first]));
        return [send(data.subarray(0, Math.max(1, Math.floor(data.length / 2)))), CLOSE];
      }
      case 'wrong-trid': {
        const other = /^\d{1,10}$/.test(String(trId)) ? Number(trId) + 1 : 1;
        if (this.#profile.family === 'microsoft') return this.#answer(other, offered, true);
        const retag = (text: string): string => text.replace(/^(\S+)[ \t]+\S+/, `$1 ${other}`);
        return normal.map((a) => (a.type === 'send' ? send(retag(a.data.toString('latin1'))) : a));
      }
      case 'wrong-version': {
        const other = Math.max(...offered, 0) < 99 ? Math.max(...offered, 0) + 1 : Math.min(...offered) - 1;
        return [send(reply.verAccepted(trId, [other]))];
      }
      case 'cvr0-only':
        return [send(reply.verCvr0Only(trId)), CLOSE];
      case 'banner':
        return [send(fault.versions === null ? reply.SMTP_UNKNOWN_COMMAND : reply.SMTP_BANNER), CLOSE];
      case 'http':
        return [send(reply.HTTP_BAD_REQUEST), CLOSE];
      case 'tls':
        return [send(reply.TLS_ALERT), CLOSE];
      case 'garbage':
        return [send(reply.GARBAGE), CLOSE];
      case 'endless':
        return [{ type: 'endless' }];
      case 'error':
        return [send(reply.errorLine(fault.arg ?? 600, trId)), CLOSE];
      case 'escape':
        return [send(reply.escapeReply(trId, first))];
      case 'out':
        return [send(reply.outLine('SSD')), CLOSE];
      case 'claim-only':
        this.#claimOnly = true;
        return normal;
    }
  }
}
