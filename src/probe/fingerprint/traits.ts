import type { Conversation, Step } from '../../codec/conversation.js';
import { PROBE_HANDLE } from '../../codec/deep.js';
import { LineReader } from '../../codec/lines.js';
import type { Outcome } from '../../codec/outcome.js';
import { formatVersions } from '../../input/range.js';
import type { TransportName } from '../../core/model.js';
import { MAX_TRAIT_LINE_BYTES, MAX_TRAIT_LINES, MAX_TRAIT_PAYLOAD_BYTES } from '../../core/limits.js';

/**
 * Behavioural traits: each is one question a server answers in its own way, with a small, named
 * set of answers. docs/FINGERPRINTS.md describes each one and why it tells servers apart.
 */
export const TRAIT_ANSWERS = {
  /** `VER 1 MSNP2 MSNP3 MSNP8 ... MSNP21 CVR0`, lowest first: which version, in which form. */
  'ascending-offer': [
    'lowest',
    'highest',
    'own-order',
    'client-echo',
    'sorted-echo',
    'rejected',
    'closed',
    'silent',
    'error',
    'other',
  ],
  /** `VER 1 MSNPn` without `CVR0`. */
  'no-cvr0': ['accepted', 'rejected', 'closed', 'silent', 'error', 'other'],
  /** `ver 1 msnpn cvr0`. */
  'lowercase-ver': ['accepted', 'rejected', 'closed', 'silent', 'error', 'other'],
  /** `HELLO 1` and a VER in the same write: `ignored` means the VER was still answered. */
  'unknown-command': ['ignored', 'closed', 'silent', 'error', 'other'],
  /** `VER 007 ...`: the trId echoed as written, or as a number. */
  'leading-zero-trid': ['as-written', 'normalized', 'rejected', 'closed', 'silent', 'error', 'other'],
  /** A second VER on the connection after an accepted first one. */
  'second-ver': ['715', 'answered', 'closed', 'silent', 'error', 'other'],
  /** One VER line written in two TCP segments with a short pause between them. */
  'split-segment': ['accepted', 'rejected', 'closed', 'silent', 'error', 'other'],
  /** A VER ending in a bare LF. */
  'bare-lf': ['accepted', 'rejected', 'closed', 'silent', 'error', 'other'],
  /** `VER MSNPn CVR0`: no trId at all. */
  'no-trid': ['closed', 'answered', 'silent', 'error', 'other'],
  /** `VER 1 MSNP1 CVR0`: how a version nobody supports is refused. */
  'reject-form': ['zero', 'list', 'cvr0', 'accepted', 'closed', 'silent', 'error', 'other'],
  /** MSNP5, then `USR 2 MD5 I <made-up handle>`. */
  'md5-unknown-handle': ['challenge', '911', 'xfr', '502', 'rejected', 'closed', 'silent', 'error', 'other'],
  /** MSNP15, then `USR 2 TWN I <handle>` (TWN belongs to MSNP8-14). */
  'wrong-auth-method': [
    'closed',
    'challenge',
    'gcf-challenge',
    '502',
    '911',
    'xfr',
    'rejected',
    'silent',
    'error',
    'other',
  ],
} as const;

export type BehaviourTrait = keyof typeof TRAIT_ANSWERS;
/** `versions` comes from the per-version probes of the same run, not from a connection of its own. */
export type TraitName = BehaviourTrait | 'versions';
export const TRAIT_NAMES: readonly TraitName[] = [...(Object.keys(TRAIT_ANSWERS) as BehaviourTrait[]), 'versions'];

/** `unmeasured`: not asked (over the gateway, no connection, target not MSNP); never counted. */
export const UNMEASURED = 'unmeasured';
/**
 * Over the HTTP gateway `closed` and `silent` cannot be told apart (Escargot's gateway never says
 * the server closed; the session just stays empty), so both read `no-reply`, which agrees with
 * either in a signature.
 */
export const NO_REPLY = 'no-reply';

export interface TraitResult {
  /** One of the trait's answers, or `unmeasured`. */
  answer: string;
  measured: boolean;
  /** With an error answer: the code. */
  code?: number;
  /** What was sent (latin1, exact). */
  sent?: string;
  /** The lines received, as the server wrote them (latin1, exact; escape before showing). */
  reply?: string[];
  /** How the connection ended: `done` (we had our answer), `close`, `timeout`, or a failure status. */
  end?: string;
  /** Why a trait was not measured. */
  note?: string;
  /** `versions` only: the versions accepted and those probed with a conclusive answer. */
  accepted?: number[];
  probed?: number[];
}

export type Traits = Partial<Record<TraitName, TraitResult>>;

/** What one fingerprint connection does. */
export interface Script {
  opening: string;
  /** Written after a pause, whatever came meanwhile (the split-segment probe). */
  later?: { afterMs: number; data: string };
  /** Sent once, after an accepted VER reply; the answer to it is the line after. */
  followUp?: string;
}

export interface ScriptResult {
  /** Lines received (payload header lines included, payload bytes not). */
  lines: string[];
  /** Payload commands received, in order (e.g. `GCF`). */
  payloads: string[];
  /** `done`: the conversation had what it needed; `close`/`timeout`: the server's part; else a failure status. */
  end: 'done' | 'close' | 'timeout' | 'reset' | 'violation' | 'failed';
  /** With `failed`: connecting failed this way (refused, unreachable, connect timeout, HTTP trouble). */
  failure?: Outcome['status'];
  /** Whether the follow-up was sent. */
  followed: boolean;
}

/** The pause between the two halves of the split VER: long enough to be two reads on loopback. */
export const SPLIT_PAUSE_MS = 250;

/**
 * Runs a Script: the opening (and `later`), then the follow-up after an accepted VER; done at the
 * first reply line that answers the last thing sent. Payloads (a GCF before USR) are noted, not
 * taken as the answer.
 */
export class ScriptConversation implements Conversation<ScriptResult> {
  readonly #script: Script;
  readonly #reader = new LineReader({ maxLineBytes: MAX_TRAIT_LINE_BYTES, maxPayloadBytes: MAX_TRAIT_PAYLOAD_BYTES });
  readonly #lines: string[] = [];
  readonly #payloads: string[] = [];
  #followed = false;

  constructor(script: Script) {
    this.#script = script;
  }

  opening(): string {
    return this.#script.opening;
  }

  later(): { afterMs: number; data: string } | undefined {
    return this.#script.later;
  }

  push(chunk: Uint8Array): Step<ScriptResult> {
    for (const frame of this.#reader.push(chunk)) {
      if (frame.kind === 'violation') return { type: 'done', result: this.#result('violation') };
      this.#lines.push(frame.text);
      if (this.#lines.length >= MAX_TRAIT_LINES) return { type: 'done', result: this.#result('done') };
      if (frame.kind === 'payload') {
        this.#payloads.push(frame.command);
        continue;
      }
      if (this.#script.followUp !== undefined && !this.#followed && acceptedVer(frame.text)) {
        this.#followed = true;
        return { type: 'send', data: this.#script.followUp };
      }
      return { type: 'done', result: this.#result('done') };
    }
    return { type: 'wait' };
  }

  end(how: 'close' | 'timeout'): ScriptResult {
    return this.#result(how);
  }

  fail(outcome: Outcome): ScriptResult {
    // A reset after the server spoke is its way of ending; before, the connection never worked.
    if (outcome.status === 'reset') return this.#result('reset');
    return { ...this.#result('failed'), failure: outcome.status };
  }

  #result(end: ScriptResult['end']): ScriptResult {
    return { lines: [...this.#lines], payloads: [...this.#payloads], end, followed: this.#followed };
  }
}

function tokens(line: string): string[] {
  return line.split(/[ \t]+/).filter((t) => t !== '');
}

/** `VER <trId> MSNPn ...`: an acceptance. */
function acceptedVer(line: string): boolean {
  const t = tokens(line);
  return t[0] === 'VER' && t.length >= 3 && t.slice(2).some((x) => /^MSNP\d+$/i.test(x));
}

type Answer = { answer: string; code?: number };

function errorAnswer(code: number | undefined): Answer {
  return code !== undefined ? { answer: 'error', code } : { answer: 'error' };
}

/** How the connection answered, when no reply line settles it. */
function noLine(result: ScriptResult): Answer {
  return result.end === 'timeout' ? { answer: 'silent' } : { answer: 'closed' };
}

function errorCode(line: string): number | undefined {
  const m = /^(\d{3})(?:[ \t]|$)/.exec(line);
  return m?.[1] ? Number(m[1]) : undefined;
}

/** The answer to a VER: accepted (with its versions), a rejection form, an error, or something else. */
export interface VerAnswer {
  kind: 'accepted' | 'zero' | 'list' | 'cvr0' | 'error' | 'other';
  trId?: string;
  versions: number[];
  code?: number;
}

export function readVerLine(line: string): VerAnswer {
  const code = errorCode(line);
  if (code !== undefined) return { kind: 'error', code, versions: [] };
  const t = tokens(line);
  if (t[0] !== 'VER' || t.length < 3) return { kind: 'other', versions: [] };
  const rest = t.slice(2);
  const versions = rest.flatMap((x) => {
    const m = /^MSNP(\d{1,3})$/i.exec(x);
    return m?.[1] ? [Number(m[1])] : [];
  });
  const base = { trId: t[1] ?? '', versions };
  if (rest[0] === '0') return { ...base, kind: versions.length > 0 ? 'list' : 'zero' };
  if (versions.length > 0) return { ...base, kind: 'accepted' };
  if (rest.length === 1 && rest[0]?.toUpperCase() === 'CVR0') return { ...base, kind: 'cvr0' };
  return { ...base, kind: 'other' };
}

/** The first reply line, read as an answer to a single-version VER. */
function verOutcome(result: ScriptResult): Answer {
  const first = result.lines[0];
  if (first === undefined) return noLine(result);
  const ver = readVerLine(first);
  switch (ver.kind) {
    case 'accepted':
      return { answer: 'accepted' };
    case 'zero':
    case 'list':
    case 'cvr0':
      return { answer: 'rejected' };
    case 'error':
      return errorAnswer(ver.code);
    default:
      return { answer: 'other' };
  }
}

/** The line that answered the follow-up (after any payload), if one came. */
function afterFollowUp(result: ScriptResult): string | undefined {
  if (!result.followed) return undefined;
  const lines = result.lines.slice(1);
  // Payload header lines are kept in order; the answer is the first line that is not one of them.
  let payloadsSeen = 0;
  for (const line of lines) {
    const command = tokens(line)[0] ?? '';
    if (payloadsSeen < result.payloads.length && command === result.payloads[payloadsSeen]) {
      payloadsSeen++;
      continue;
    }
    return line;
  }
  return undefined;
}

/** The answer to a first login step sent after an accepted VER. */
function loginOutcome(result: ScriptResult, method: string): Answer {
  const first = result.lines[0];
  if (first === undefined) return noLine(result);
  const ver = readVerLine(first);
  if (ver.kind === 'zero' || ver.kind === 'list' || ver.kind === 'cvr0') return { answer: 'rejected' };
  if (ver.kind === 'error') return errorAnswer(ver.code);
  if (ver.kind !== 'accepted') return { answer: 'other' };
  const line = afterFollowUp(result);
  if (line === undefined) return noLine(result);
  const code = errorCode(line);
  if (code === 911 || code === 502) return { answer: String(code), code };
  if (code !== undefined) return { answer: 'error', code };
  const t = tokens(line);
  if (t[0] === 'XFR') return { answer: 'xfr' };
  if (t[0] === 'USR' && t[3] === 'S') {
    if (t[2] !== method) return { answer: 'other' };
    return { answer: result.payloads.includes('GCF') ? 'gcf-challenge' : 'challenge' };
  }
  return { answer: 'other' };
}

/** Picks the answer to the ascending offer: which version won, and how the reply was written. */
function ascendingAnswer(result: ScriptResult, offered: readonly number[]): Answer {
  const first = result.lines[0];
  if (first === undefined) return noLine(result);
  const ver = readVerLine(first);
  if (ver.kind === 'error') return errorAnswer(ver.code);
  if (ver.kind === 'zero' || ver.kind === 'list' || ver.kind === 'cvr0') return { answer: 'rejected' };
  if (ver.kind !== 'accepted') return { answer: 'other' };
  const got = ver.versions;
  if (got.length > 1) {
    const ascending = got.every((v, i) => i === 0 || v > (got[i - 1] ?? 0));
    const descending = got.every((v, i) => i === 0 || v < (got[i - 1] ?? 0));
    return { answer: ascending ? 'client-echo' : descending ? 'sorted-echo' : 'other' };
  }
  const chosen = got[0];
  if (chosen === offered[0]) return { answer: 'lowest' };
  if (chosen === offered[offered.length - 1]) return { answer: 'highest' };
  // Escargot's own order puts 18 before 19-21.
  if (chosen === 18) return { answer: 'own-order' };
  return { answer: 'other' };
}

/** One fingerprint connection: what it sends and which traits its answer settles. */
export interface TraitProbe {
  name: string;
  traits: BehaviourTrait[];
  /** False where the HTTP gateway cannot carry the question (TCP segments, line framing). */
  overGateway: boolean;
  script(version: number): Script;
  read(result: ScriptResult, version: number): Partial<Record<BehaviourTrait, Answer>>;
}

/** The ascending offer: low versions of every era, then 18 and 21 to tell Escargot's order from "highest". */
export const ASCENDING_OFFER: readonly number[] = [2, 3, 8, 9, 11, 12, 18, 21];

const ver = (trId: string, version: number, tail = ' CVR0', end = '\r\n'): string =>
  `VER ${trId} MSNP${version}${tail}${end}`;

export const TRAIT_PROBES: readonly TraitProbe[] = [
  {
    name: 'ascending-offer',
    traits: ['ascending-offer'],
    overGateway: true,
    script: () => ({ opening: `VER 1 ${ASCENDING_OFFER.map((v) => `MSNP${v}`).join(' ')} CVR0\r\n` }),
    read: (r) => ({ 'ascending-offer': ascendingAnswer(r, ASCENDING_OFFER) }),
  },
  {
    name: 'no-cvr0',
    traits: ['no-cvr0'],
    overGateway: true,
    script: (v) => ({ opening: ver('1', v, '') }),
    read: (r) => ({ 'no-cvr0': verOutcome(r) }),
  },
  {
    name: 'lowercase-ver',
    traits: ['lowercase-ver'],
    overGateway: true,
    script: (v) => ({ opening: `ver 1 msnp${v} cvr0\r\n` }),
    read: (r) => ({ 'lowercase-ver': verOutcome(r) }),
  },
  {
    name: 'unknown-command',
    traits: ['unknown-command'],
    overGateway: true,
    // One write: a server that drops the rest of a read after an unknown command never sees the VER.
    script: (v) => ({ opening: `HELLO 1\r\n${ver('2', v)}` }),
    read: (r) => {
      const first = r.lines[0];
      if (first === undefined) return { 'unknown-command': noLine(r) };
      const answer = readVerLine(first);
      if (answer.kind === 'error') {
        return { 'unknown-command': errorAnswer(answer.code) };
      }
      return { 'unknown-command': { answer: answer.kind === 'other' ? 'other' : 'ignored' } };
    },
  },
  {
    name: 'trid-and-second-ver',
    traits: ['leading-zero-trid', 'second-ver'],
    overGateway: true,
    script: (v) => ({ opening: ver('007', v), followUp: ver('2', v) }),
    read: (r) => {
      const first = r.lines[0];
      const out: Partial<Record<BehaviourTrait, Answer>> = {};
      if (first === undefined) {
        out['leading-zero-trid'] = noLine(r);
        return out;
      }
      const answer = readVerLine(first);
      if (answer.kind === 'accepted') {
        const echoed = answer.trId === '007' ? 'as-written' : answer.trId === '7' ? 'normalized' : 'other';
        out['leading-zero-trid'] = { answer: echoed };
      } else out['leading-zero-trid'] = verOutcome(r);
      if (!r.followed) return out;
      const second = afterFollowUp(r);
      if (second === undefined) out['second-ver'] = noLine(r);
      else {
        const code = errorCode(second);
        const again = readVerLine(second);
        if (code === 715) out['second-ver'] = { answer: '715', code };
        else if (code !== undefined) out['second-ver'] = errorAnswer(code);
        else out['second-ver'] = { answer: again.kind === 'other' ? 'other' : 'answered' };
      }
      return out;
    },
  },
  {
    name: 'split-segment',
    traits: ['split-segment'],
    overGateway: false,
    script: (v) => ({ opening: 'VER 1 MSN', later: { afterMs: SPLIT_PAUSE_MS, data: `P${v} CVR0\r\n` } }),
    read: (r) => ({ 'split-segment': verOutcome(r) }),
  },
  {
    name: 'bare-lf',
    traits: ['bare-lf'],
    overGateway: false,
    script: (v) => ({ opening: ver('1', v, ' CVR0', '\n') }),
    read: (r) => ({ 'bare-lf': verOutcome(r) }),
  },
  {
    name: 'no-trid',
    traits: ['no-trid'],
    overGateway: true,
    script: (v) => ({ opening: `VER MSNP${v} CVR0\r\n` }),
    read: (r) => {
      const first = r.lines[0];
      if (first === undefined) return { 'no-trid': noLine(r) };
      const code = errorCode(first);
      if (code !== undefined) return { 'no-trid': { answer: 'error', code } };
      return { 'no-trid': { answer: tokens(first)[0] === 'VER' ? 'answered' : 'other' } };
    },
  },
  {
    name: 'reject-form',
    traits: ['reject-form'],
    overGateway: true,
    script: () => ({ opening: ver('1', 1) }),
    read: (r) => {
      const first = r.lines[0];
      if (first === undefined) return { 'reject-form': noLine(r) };
      const answer = readVerLine(first);
      if (answer.kind === 'error') return { 'reject-form': errorAnswer(answer.code) };
      return { 'reject-form': { answer: answer.kind } };
    },
  },
  {
    name: 'md5-unknown-handle',
    traits: ['md5-unknown-handle'],
    overGateway: true,
    script: () => ({ opening: ver('1', 5), followUp: `USR 2 MD5 I ${PROBE_HANDLE}\r\n` }),
    read: (r) => ({ 'md5-unknown-handle': loginOutcome(r, 'MD5') }),
  },
  {
    name: 'wrong-auth-method',
    traits: ['wrong-auth-method'],
    overGateway: true,
    script: () => ({ opening: ver('1', 15), followUp: `USR 2 TWN I ${PROBE_HANDLE}\r\n` }),
    read: (r) => ({ 'wrong-auth-method': loginOutcome(r, 'TWN') }),
  },
];

/** The version single-version probes offer: MSNP8 when the server took it, else its lowest accepted. */
export function probeVersion(accepted: readonly number[]): number {
  if (accepted.includes(8) || accepted.length === 0) return 8;
  return Math.min(...accepted);
}

/** Turns one connection's result into its traits' results. */
export function traitsOf(probe: TraitProbe, result: ScriptResult, version: number, script: Script): Traits {
  const out: Traits = {};
  const sent = script.opening + (script.later?.data ?? '') + (result.followed ? (script.followUp ?? '') : '');
  if (result.end === 'failed') {
    for (const name of probe.traits) {
      out[name] = { answer: UNMEASURED, measured: false, sent, note: `no connection (${result.failure ?? 'failed'})` };
    }
    return out;
  }
  const answers = probe.read(result, version);
  for (const name of probe.traits) {
    const a = answers[name];
    const base: TraitResult = a
      ? { answer: a.answer, measured: true, ...(a.code !== undefined ? { code: a.code } : {}) }
      : { answer: UNMEASURED, measured: false, note: 'the first answer did not allow the question' };
    out[name] = { ...base, sent, reply: result.lines, end: result.end };
  }
  return out;
}

/** Over the gateway: `closed` and `silent` become `no-reply` (see NO_REPLY). */
export function overGateway(traits: Traits): Traits {
  const out: Traits = {};
  for (const [name, t] of Object.entries(traits) as [TraitName, TraitResult][]) {
    out[name] = t.measured && (t.answer === 'closed' || t.answer === 'silent') ? { ...t, answer: NO_REPLY } : t;
  }
  return out;
}

/** Traits a transport cannot carry, reported unmeasured with the reason. */
export function unmeasuredOver(probe: TraitProbe, transport: TransportName): Traits {
  const out: Traits = {};
  for (const name of probe.traits) {
    out[name] = { answer: UNMEASURED, measured: false, note: `not measurable over ${transport}` };
  }
  return out;
}

/** The `versions` trait: the per-version matrix, counted only where it gave a yes or a no. */
export function versionsTrait(probes: readonly { version: number; status: string }[]): TraitResult {
  const probed = probes
    .filter((p) => p.status === 'accepted' || p.status === 'rejected')
    .map((p) => p.version)
    .sort((a, b) => a - b);
  const accepted = probes
    .filter((p) => p.status === 'accepted')
    .map((p) => p.version)
    .sort((a, b) => a - b);
  if (probed.length === 0) {
    return { answer: UNMEASURED, measured: false, note: 'no version gave a yes or a no', accepted, probed };
  }
  return { answer: accepted.length ? formatVersions(accepted) : 'none', measured: true, accepted, probed };
}
