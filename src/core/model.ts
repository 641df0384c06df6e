/**
 * The report model: what a probe measured, as the library returns it and every output writes it.
 * Types only (plus the target key), so every layer can name them without importing the layers
 * that fill them in.
 */
import type { DeepResult } from '../codec/deep.js';
import type { Outcome, ProbeStatus } from '../codec/outcome.js';
import type { FingerprintReport } from '../probe/fingerprint/probe.js';
import type { AddressClass } from '../probe/follow-policy.js';

/** How probes reach a server: a name in the transport registry (`tcp`, `http`). */
export type { TransportName } from '../transport/registry.js';
import type { TransportName } from '../transport/registry.js';

/** One key per server for maps and sets: host names compare case-insensitively. */
export function targetKey(host: string, port: number): string {
  return `${host.toLowerCase()}|${port}`;
}

export interface TranscriptEntry {
  /** Milliseconds since the exchange started. */
  t: number;
  /** `close`: the connection ended here (`data` is empty); `by` says who ended it. */
  dir: 'send' | 'recv' | 'close';
  /** The bytes as a latin1 string (exact). */
  data: string;
  /** With `close`: `server` (its FIN), `client` (we closed: done or deadline), `reset` (reset or socket error). */
  by?: CloseBy;
}

export type CloseBy = 'server' | 'client' | 'reset';

/** The measured side of a probe, shared by per-version probes and the combined offer. */
export interface Measured {
  /** From connect start to the VER verdict. */
  elapsedMs: number;
  /** Bytes read from the server before the VER verdict (0: nothing came). */
  bytesReceived: number;
  /** Hex of the first bytes received (at most 64), present when bytes came but no complete reply line. */
  firstBytes?: string;
  /** Complete unsolicited lines (trId 0 or none) skipped before the reply. */
  unsolicited?: string[];
  transcript?: TranscriptEntry[];
}

export type ExchangeOutcome = Outcome & Measured;

/** With `deep`: what followed an accepted VER on the same connection. */
export type DeepMeasured = DeepResult & { elapsedMs: number };

/** How far repeated attempts (`attempts` > 1) agreed. */
export interface Agreement {
  attempts: number;
  /** How many attempts ended in each status. */
  statuses: Partial<Record<ProbeStatus, number>>;
  /** How many attempts gave each answer: the status, with its code for `error` (`error 600`). */
  answers: Record<string, number>;
  /** Every attempt gave the same answer (status, and code for errors). */
  agree: boolean;
}

export interface Repeats {
  /** Retries spent on transient outcomes (absent when none). */
  retries?: number;
  agreement?: Agreement;
}

export type VersionProbe = { version: number } & ProbeOutcome & Repeats;

/** Where the dispatch answers of a target point, grouped by address. */
export interface RedirectSummary {
  /** The address as the server wrote it (`0`: start again on this server). */
  to: string;
  host: string | null;
  port: number | null;
  /** Versions whose login step was answered with this redirect. */
  versions: number[];
  /** XFR layouts seen. */
  formats: string[];
  /** Whether `follow` probed it; when not, why. */
  followed: boolean;
  /**
   * `policy`: outside the follow policy (another address class, or a name outside the target's
   * domain); `invalid-host`: not a valid host name; `cap`: past the servers followed per target;
   * `unresolved`: the name did not resolve.
   */
  reason?:
    | 'not-following'
    | 'this-server'
    | 'same-server'
    | 'loop'
    | 'too-deep'
    | 'unparsable'
    | 'policy'
    | 'invalid-host'
    | 'cap'
    | 'unresolved'
    | 'excluded';
  /** With `follow`, for a redirect naming a host name that was resolved: the address it resolved to. */
  address?: string;
  /** With `follow`: the class of the redirect's address (`loopback`, `private`, `link-local`, `public`, `reserved`). */
  addressClass?: AddressClass;
}
export type OfferProbe = { offered: number[] } & ExchangeOutcome & Repeats;

export interface TargetReport {
  host: string;
  port: number;
  /** The address connected to (resolved once per target), or null when the name did not resolve. */
  address: string | null;
  family: 4 | 6 | null;
  probes: VersionProbe[];
  /** Versions whose probe was accepted, ascending. */
  accepted: number[];
  /** The version chosen from the combined offer, or null. */
  preferred: number | null;
  offer: OfferProbe | null;
  /** Whether any reply came from an MSNP server (false: refused, silent, unreachable or another protocol). */
  answered: boolean;
  elapsedMs: number;
  transport: TransportName;
  /** With `deep`: the XFR redirects seen, grouped by address. */
  redirects?: RedirectSummary[];
  /** Set on a report reached by following a redirect: the server that sent us here. */
  via?: { host: string; port: number };
  /** With `fingerprint`: the traits measured and the implementations they match. */
  fingerprint?: FingerprintReport;
  /** With `proxy`: the proxy every connection went through, as `socks5://HOST:PORT` or `socks5h://`. */
  proxy?: string;
}

/** A probe's outcome with what `deep` added after an accepted VER. */
export type ProbeOutcome = ExchangeOutcome & { deep?: DeepMeasured };
