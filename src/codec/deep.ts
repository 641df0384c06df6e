import { buildVerRequest, VerReplyClassifier, lineTooLong, readReply, streamEndOutcome } from './classify.js';
import type { Conversation, Step } from './conversation.js';
import { msnpError } from '../core/errors.js';
import { MAX_DEEP_SKIPPED } from '../core/limits.js';
import type { Frame, LineReader } from './lines.js';
import type { Outcome, UnexpectedReason } from './outcome.js';

/** The placeholder account a deep probe names. It never sends a password or completes a login. */
export const PROBE_HANDLE = 'probe@example.com';

export type AuthMethod = 'MD5' | 'TWN' | 'SSO';

/** The first USR step of each version: MD5 for MSNP2-7, TWN (Tweener) for 8-14, SSO for 15+. */
export function authMethodFor(version: number): AuthMethod {
  return version <= 7 ? 'MD5' : version <= 14 ? 'TWN' : 'SSO';
}

/** A plausible client of each protocol version, for CVR (servers echo or check it). */
export function clientVersionFor(version: number): string {
  if (version <= 7) return '4.7.3001';
  const byVersion: Record<number, string> = {
    8: '5.0.0540',
    9: '6.0.0602',
    10: '6.1.0211',
    11: '7.0.0813',
    12: '7.5.0324',
    13: '8.0.0812',
    14: '8.1.0178',
    15: '8.5.1302',
    16: '9.0.1407',
    17: '14.0.8050',
    18: '14.0.8117',
  };
  return byVersion[version] ?? '15.4.3508.1109';
}

/**
 * `CVR t 0x0409 winnt 5.1 i386 MSNMSGR 8.5.1302 msmsgs probe@example.com` (the handle from MSNP8).
 * Eight fields at every version: a ninth at MSNP21 is confirmed by no source, and a server that
 * checks the count (ReMessenger) refuses it with `731`, which would hide whether login works.
 */
export function buildCvrRequest(trId: number, version: number, handle = PROBE_HANDLE): string {
  const lib = version <= 7 ? 'MSMSGS' : 'MSNMSGR';
  const fields = ['CVR', String(trId), '0x0409', 'winnt', '5.1', 'i386', lib, clientVersionFor(version), 'msmsgs'];
  if (version >= 8) fields.push(handle);
  return `${fields.join(' ')}\r\n`;
}

/**
 * Whether `text` can be sent as a handle: one e-mail-like token, ASCII without spaces or control
 * characters, so it cannot add fields or lines to the commands it is written into.
 */
export function isValidHandle(text: string): boolean {
  return text.length <= 129 && /^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(text);
}

/**
 * Error codes that answer the first USR step with the version's own method by refusing the account
 * (unknown user, authentication failed), not the method: the login path works at this version.
 */
export const ACCOUNT_REFUSED_CODES: readonly number[] = [205, 911, 917];

export interface Redirect {
  /** The address as the server wrote it (`ip:port`, or `0` for "this server"). */
  address: string;
  host: string | null;
  port: number | null;
  /**
   * Which XFR layout it came in: msnp2 `ip:port`; msnp3 `... 0`; msnp7 `... 0 current`;
   * msnp13 `... U D`; msnp21 `... U D hop`.
   */
  format: 'msnp2' | 'msnp3' | 'msnp7' | 'msnp13' | 'msnp21' | 'unknown';
  /** `G`: use the HTTP gateway rather than TCP. */
  gateway: boolean;
  /** MSNP7-12: the address the server saw us connect from. */
  clientAddress?: string;
  /** MSNP21: the base64 hop string. */
  hop?: string;
}

/** Parses the arguments after `XFR t NS`; undefined if there is no address. */
export function parseRedirect(args: readonly string[]): Redirect | undefined {
  const [address, ...rest] = args;
  if (!address) return undefined;
  let host: string | null = null;
  let port: number | null = null;
  if (address !== '0') {
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(address);
    if (m?.[1] && m[2] && Number(m[2]) >= 1 && Number(m[2]) <= 65535) {
      host = m[1].replace(/^\[|\]$/g, '');
      port = Number(m[2]);
    }
  }
  const flag = rest[0];
  let format: Redirect['format'] = 'unknown';
  const out: Redirect = { address, host, port, format, gateway: flag === 'G' };
  if (rest.length === 0) format = 'msnp2';
  else if (rest.length === 1 && flag === '0') format = 'msnp3';
  else if (rest.length === 2 && flag === '0') {
    format = 'msnp7';
    out.clientAddress = rest[1] ?? '';
  } else if ((flag === 'U' || flag === 'G') && rest[1] === 'D') {
    format = rest.length >= 3 ? 'msnp21' : 'msnp13';
    if (rest[2] !== undefined) out.hop = rest[2];
  }
  out.format = format;
  return out;
}

export type DeepCommand = 'CVR' | 'INF' | 'USR';

/** `not-attempted`: INF named a method that sends a password in its first step (CTP); USR was not sent. */

/** How one follow-up command was answered. */
export type StepOutcome =
  | { status: 'answered'; reply: string }
  | { status: 'notification'; reply: string; method: string; policy: string | null; challenge: string | null }
  | { status: 'dispatch'; reply: string; redirect: Redirect }
  | { status: 'error'; reply: string; code: number; codeName: string | null; busy: boolean }
  | { status: 'account-refused'; reply: string; code: number; codeName: string | null }
  | { status: 'not-attempted'; reply: null; method: string }
  | { status: 'closed'; reply: string | null; out: string | null }
  | { status: 'reset' | 'timeout'; reply: null }
  | { status: 'mismatch'; reply: string }
  | { status: 'unexpected'; reply: string | null; reason: UnexpectedReason };

export interface DeepStep {
  command: DeepCommand;
  /** The line sent, without CRLF. */
  request: string;
  outcome: StepOutcome;
}

/** The outcome of the login step, or of the earlier step that stopped the conversation. */
export type LoginStatus =
  | 'notification'
  | 'dispatch'
  | 'account-refused'
  | 'not-attempted'
  | 'closed'
  | 'error'
  | 'timeout'
  | 'reset'
  | 'mismatch'
  | 'unexpected';

/**
 * `confirmed`: an auth challenge in the method asked for, or a redirect. `account-refused`: the
 * version's own method reached an account check that refused the handle (try a handle the server
 * knows). `claimed-only`: VER was accepted but nothing showed that a login could go on.
 */
export type SessionVerdict = 'confirmed' | 'account-refused' | 'claimed-only';

export interface DeepResult {
  session: SessionVerdict;
  login: LoginStatus;
  /** The command whose answer decided `login`. */
  decidedBy: DeepCommand;
  /** From the CVR reply: `CVR t <recommended> <recommended> <minimum> <download-url> <info-url>`. */
  cvr?: { recommended: string; minimum: string; downloadUrl: string | null; infoUrl: string | null };
  /** From `INF t MD5` (MSNP2-7). */
  infMethods?: string[];
  /**
   * From `USR t <method> S <policy/challenge...>`: `method` is the one the server named. With
   * `methodMismatch`, it differs from `requested` (e.g. SSO asked, TWN answered): not confirmed.
   * With login `not-attempted`: the method INF named, never used.
   */
  auth?: { method: string; policy: string | null; challenge: string | null; methodMismatch?: true; requested?: string };
  redirect?: Redirect;
  /** With login `error`. */
  code?: number;
  codeName?: string | null;
  steps: DeepStep[];
  /** Payload commands read by their byte count on the way (e.g. GCF policies before USR). */
  payloads: { command: string; size: number }[];
}

/** What a deep probe ends in: the VER verdict, and the follow-up when VER was accepted. */
export interface DeepOutcome {
  ver: Outcome;
  deep: DeepResult | null;
}

function sessionVerdict(login: LoginStatus, methodMismatch: boolean): SessionVerdict {
  if ((login === 'notification' && !methodMismatch) || login === 'dispatch') return 'confirmed';
  return login === 'account-refused' ? 'account-refused' : 'claimed-only';
}

/**
 * VER, then the way a real client of that version goes on: CVR, INF (MSNP2-7), and the first USR
 * step with that version's auth method and a placeholder handle. Stops at the first auth
 * challenge or redirect: it never sends credentials.
 */
export class DeepConversation implements Conversation<DeepOutcome> {
  readonly #version: number;
  readonly #ver: VerReplyClassifier;
  #verOutcome: Outcome | undefined;
  #reader: LineReader | undefined;
  #plan: { command: DeepCommand; trId: number; line: string }[] = [];
  #steps: DeepStep[] = [];
  #payloads: { command: string; size: number }[] = [];
  #skipped = 0;
  #result: DeepResult | undefined;
  #cvr: DeepResult['cvr'];
  #inf: string[] | undefined;

  readonly #handle: string;
  #method: string;

  constructor(version: number, handle = PROBE_HANDLE) {
    // The handle is written into CVR and USR lines: a space or CRLF in it would forge commands.
    if (!isValidHandle(handle)) throw msnpError('ERR_OPTION', 'handle must be an e-mail-like address (name@domain)');
    this.#version = version;
    this.#handle = handle;
    this.#method = authMethodFor(version);
    this.#ver = new VerReplyClassifier({ trId: 1, offered: [version] });
    let trId = 2;
    this.#plan.push({ command: 'CVR', trId, line: buildCvrRequest(trId++, version, handle) });
    if (version <= 7) this.#plan.push({ command: 'INF', trId, line: `INF ${trId++}\r\n` });
    this.#plan.push({ command: 'USR', trId, line: this.#usrLine(trId) });
  }

  /**
   * The request as recorded in `steps`: an operator's own handle is shown as `<handle>`, so a
   * report (or a baseline made from it) names the account only in a transcript asked for.
   */
  #shown(line: string): string {
    const text = line.slice(0, -2);
    if (this.#handle === PROBE_HANDLE) return text;
    return text
      .split(' ')
      .map((f) => (f === this.#handle ? '<handle>' : f))
      .join(' ');
  }

  #usrLine(trId: number): string {
    return `USR ${trId} ${this.#method} I ${this.#handle}\r\n`;
  }

  /**
   * MSNP2-7: INF names the methods the server takes. Use MD5 when named; a method that sends the
   * password in its first step (CTP), or one we do not know, is never attempted.
   */
  #followInf(methods: readonly string[]): StepOutcome | undefined {
    if (methods.includes('MD5') || methods.length === 0) return undefined;
    this.#method = methods[0] ?? '';
    return { status: 'not-attempted', reply: null, method: this.#method };
  }

  get unsolicited(): readonly string[] {
    return this.#ver.unsolicited;
  }

  opening(): string {
    return buildVerRequest({ trId: 1, offered: [this.#version] });
  }

  push(chunk: Uint8Array): Step<DeepOutcome> {
    if (!this.#verOutcome) {
      const outcome = this.#ver.push(chunk);
      if (!outcome) return { type: 'wait' };
      this.#verOutcome = outcome;
      if (outcome.status !== 'accepted') return { type: 'done', result: { ver: outcome, deep: null } };
      const { frames, reader } = this.#ver.handOver();
      this.#reader = reader;
      const step = this.#frames(frames);
      return step.type === 'wait' ? this.#next() : step;
    }
    return this.#frames(this.#reader?.push(chunk) ?? []);
  }

  end(how: 'close' | 'timeout'): DeepOutcome {
    if (!this.#verOutcome) return { ver: this.#ver.end(how), deep: null };
    // A deadline inside a payload (header read, bytes still owed) is a timeout, whatever the bytes.
    if (how === 'timeout' && this.#reader?.inPayload) return this.#finish({ status: 'timeout', reply: null });
    const ended = streamEndOutcome(this.#reader?.pending ?? new Uint8Array(0), how);
    return this.#finish(ended.status === 'timeout' ? { status: 'timeout', reply: null } : ended);
  }

  fail(outcome: Outcome): DeepOutcome {
    if (!this.#verOutcome) return { ver: outcome, deep: null };
    const step: StepOutcome =
      outcome.status === 'reset'
        ? { status: 'reset', reply: null }
        : outcome.status === 'timeout'
          ? { status: 'timeout', reply: null }
          : { status: 'closed', reply: null, out: null };
    return this.#finish(step);
  }

  /** Sends the next planned command, or ends when the plan is done. */
  #next(): Step<DeepOutcome> {
    const next = this.#plan[this.#steps.length];
    if (!next) return { type: 'done', result: this.#finish(undefined) };
    return { type: 'send', data: next.line };
  }

  #frames(frames: Frame[]): Step<DeepOutcome> {
    for (const frame of frames) {
      if (this.#result) break;
      if (frame.kind === 'violation') return { type: 'done', result: this.#finish(lineTooLong()) };
      if (frame.kind === 'payload') {
        if (this.#payloads.length < MAX_DEEP_SKIPPED)
          this.#payloads.push({ command: frame.command, size: frame.payload.length });
        continue;
      }
      const outcome = this.#answer(frame.text);
      if (outcome === undefined) {
        if (++this.#skipped > MAX_DEEP_SKIPPED)
          return { type: 'done', result: this.#finish({ status: 'mismatch', reply: frame.text }) };
        continue;
      }
      const current = this.#plan[this.#steps.length];
      if (!current) break;
      this.#steps.push({ command: current.command, request: this.#shown(current.line), outcome });
      if (outcome.status !== 'answered') return { type: 'done', result: this.#finish(undefined) };
      if (current.command === 'INF') {
        const skip = this.#followInf(this.#inf ?? []);
        if (skip) return { type: 'done', result: this.#finish(skip, false) };
        const usr = this.#plan[this.#steps.length];
        if (usr) usr.line = this.#usrLine(usr.trId);
      }
      const next = this.#next();
      if (next.type !== 'wait') return next;
    }
    return { type: 'wait' };
  }

  /** How a line answers the command in flight; undefined for unsolicited lines. */
  #answer(line: string): StepOutcome | undefined {
    const current = this.#plan[this.#steps.length];
    if (!current) return undefined;
    const read = readReply(line);
    switch (read.kind) {
      case 'end':
        return read.outcome;
      case 'unsolicited':
        return undefined;
      case 'error': {
        // A step's error outcome names no trId: the step it answers says which command it was.
        const { trId, ...error } = read.outcome;
        if (trId !== null && trId !== current.trId) return undefined;
        if (current.command === 'USR' && ACCOUNT_REFUSED_CODES.includes(error.code)) {
          return { status: 'account-refused', reply: line, code: error.code, codeName: error.codeName };
        }
        return error;
      }
      case 'ver':
        return { status: 'mismatch', reply: line };
      case 'command': {
        if (read.trId !== current.trId) return { status: 'mismatch', reply: line };
        if (read.command === 'XFR' && current.command === 'USR' && read.args[0] === 'NS') {
          const redirect = parseRedirect(read.args.slice(1));
          return redirect
            ? { status: 'dispatch', reply: line, redirect }
            : { status: 'unexpected', reply: line, reason: 'malformed' };
        }
        if (read.command !== current.command) return { status: 'mismatch', reply: line };
        if (current.command === 'CVR') {
          const [recommended, , minimum, downloadUrl, infoUrl] = read.args;
          this.#cvr = {
            recommended: recommended ?? '',
            minimum: minimum ?? recommended ?? '',
            downloadUrl: downloadUrl ?? null,
            infoUrl: infoUrl ?? null,
          };
          return { status: 'answered', reply: line };
        }
        if (current.command === 'INF') {
          this.#inf = [...read.args];
          return { status: 'answered', reply: line };
        }
        // USR t METHOD S <policy> [<nonce>]: the auth challenge of a notification server.
        const [method, phase, ...rest] = read.args;
        if (phase !== 'S') return { status: 'mismatch', reply: line };
        const twoPart = method === 'SSO' && rest.length >= 2;
        return {
          status: 'notification',
          reply: line,
          method: method ?? '',
          policy: twoPart ? (rest[0] ?? null) : method === 'TWN' ? rest.join(' ') || null : null,
          challenge: twoPart ? (rest[1] ?? null) : method === 'TWN' ? null : rest.join(' ') || null,
        };
      }
    }
  }

  /** `asStep`: false when `stopped` is a decision of ours, not an answer to a command sent. */
  #finish(stopped: StepOutcome | undefined, asStep = true): DeepOutcome {
    if (!this.#result) {
      if (stopped && asStep) {
        const current = this.#plan[this.#steps.length];
        if (current) {
          this.#steps.push({ command: current.command, request: this.#shown(current.line), outcome: stopped });
        }
      }
      const last = this.#steps.at(-1);
      const closed: StepOutcome = { status: 'closed', reply: null, out: null };
      const outcome = (asStep ? undefined : stopped) ?? last?.outcome ?? closed;
      const login: LoginStatus = outcome.status === 'answered' ? 'mismatch' : outcome.status;
      const mismatch = outcome.status === 'notification' && outcome.method !== this.#method;
      const result: DeepResult = {
        session: sessionVerdict(login, mismatch),
        login,
        decidedBy: last?.command ?? 'CVR',
        steps: this.#steps,
        payloads: this.#payloads,
      };
      if (this.#cvr) result.cvr = this.#cvr;
      if (this.#inf) result.infMethods = this.#inf;
      if (outcome.status === 'notification') {
        result.auth = { method: outcome.method, policy: outcome.policy, challenge: outcome.challenge };
        if (mismatch) Object.assign(result.auth, { methodMismatch: true, requested: this.#method });
      }
      if (outcome.status === 'not-attempted') result.auth = { method: outcome.method, policy: null, challenge: null };
      if (outcome.status === 'dispatch') result.redirect = outcome.redirect;
      if (outcome.status === 'error' || outcome.status === 'account-refused') {
        result.code = outcome.code;
        result.codeName = outcome.codeName;
      }
      this.#result = result;
    }
    return { ver: this.#verOutcome as Outcome, deep: this.#result };
  }
}
