import { msnpError } from '../errors.js';

/** How a profile answers VER. Each field is a behaviour some real server showed (see README). */
export interface Profile {
  name: string;
  /**
   * After VER. `escargot`: one server does it all; CVR echoes the client's version; auth gates
   * (silent close on the wrong method, 911 for a handle without `@`); GCF policies before
   * `USR ... S` from MSNP13. `microsoft`: a dispatch server that answers the first USR with an XFR
   * to a notification server, which then gives the auth challenge.
   */
  family: 'escargot' | 'microsoft';
  summary: string;
  /** Where the behaviour comes from. */
  source: string;
  /** Versions accepted at VER, ascending. */
  versions: number[];
  /**
   * The order in which the server picks from an offer: the first of these the client offered wins.
   * `client` answers with the offered subset in the client's order (Microsoft's echo).
   */
  choice: number[] | 'client';
  /** `single`: `VER t MSNPn` (Escargot). `echo`: `VER t <offered subset> CVR0` (Microsoft). */
  acceptForm: 'single' | 'echo';
  /** `close`: `VER t 0` then close. `list-open`: `VER t 0 <own list>` and stay connected. */
  rejectForm: 'close' | 'list-open';
  /** Whether `msnp8` counts as `MSNP8` (Escargot upper-cases tokens; Microsoft did not). */
  caseInsensitive: boolean;
  /** What an unknown command gets: silence (Escargot) or a disconnect. */
  unknownCommand: 'ignore' | 'close';
}

function span(from: number, to: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v++) out.push(v);
  return out;
}

/** Escargot's own preference: 18 down to 2, then 19, 20, 21 (it calls 19-21 not really supported). */
export const ESCARGOT_ORDER: readonly number[] = [...span(2, 18).reverse(), 19, 20, 21];

const escargot: Profile = {
  name: 'escargot',
  family: 'escargot',
  summary: 'Escargot revival server (2018 to today): MSNP2-21, picks by its own order',
  source: 'Escargot front/msn/msnp_ns.py; run on loopback, November 2026 (PROTOCOL.md)',
  versions: span(2, 21),
  choice: [...ESCARGOT_ORDER],
  acceptForm: 'single',
  rejectForm: 'close',
  caseInsensitive: true,
  unknownCommand: 'ignore',
};

function microsoft(name: string, versions: number[], summary: string, source: string): Profile {
  return {
    name,
    family: 'microsoft',
    summary,
    source,
    versions,
    choice: 'client',
    acceptForm: 'echo',
    rejectForm: 'close',
    caseInsensitive: false,
    unknownCommand: 'close',
  };
}

export const PROFILES: Readonly<Record<string, Profile>> = Object.freeze({
  escargot,
  'escargot-2017': {
    ...escargot,
    name: 'escargot-2017',
    summary: 'Escargot as of 2017: rejects with its whole version list and stays connected',
    source: 'Escargot 2017 behaviour recorded in PROTOCOL.md',
    rejectForm: 'list-open',
  },
  'msn-2000': microsoft('msn-2000', span(2, 5), 'Microsoft servers of 2000: MSNP2-5', 'PROTOCOL.md server table'),
  'msn-2002': microsoft('msn-2002', span(2, 7), 'Microsoft servers of 2002: MSNP2-7', 'PROTOCOL.md server table'),
  'msn-2003': microsoft(
    'msn-2003',
    span(8, 10),
    'Microsoft servers from October 2003: MSNP8 upward (8-10, to Messenger 6.1)',
    'PROTOCOL.md server table; 2003 capture `VER 5 MSNP8 CVR0`',
  ),
  'msn-2007': microsoft(
    'msn-2007',
    span(8, 16),
    'Microsoft servers of July 2007: MSNP8-15 current, MSNP16 already answered',
    'the July 2007 blog post in PROTOCOL.md',
  ),
  'msn-2010': microsoft(
    'msn-2010',
    [8, ...span(10, 18)],
    'Microsoft servers of 2010: MSNP9 no longer accepted while MSNP8 still was (8, 10-18)',
    'PROTOCOL.md server table',
  ),
  'msn-2014': microsoft(
    'msn-2014',
    [11, 12, 14, 15, 16],
    'Microsoft servers about 2014: 11, 12, 14, 15, 16 (13 and 9-10 gone)',
    'PROTOCOL.md server table',
  ),
});

export const PROFILE_NAMES: readonly string[] = Object.keys(PROFILES);

/** The default profile for demos: the July 2007 servers of the seed blog post. */
export const DEMO_PROFILE = 'msn-2007';

export function getProfile(name: string): Profile {
  const profile = PROFILES[name];
  if (!profile) throw msnpError('ERR_PROFILE', `unknown profile '${name}' (known: ${PROFILE_NAMES.join(', ')})`);
  return profile;
}

/** A copy of `profile` that accepts exactly `versions` (the `--versions` override). */
export function withVersions(profile: Profile, versions: readonly number[]): Profile {
  const sorted = [...new Set(versions)].sort((a, b) => a - b);
  const own = profile.choice;
  if (own === 'client') return { ...profile, versions: sorted };
  // Keep the server's own order for versions it knows; others go last, highest first.
  const choice = [...own.filter((v) => sorted.includes(v)), ...sorted.filter((v) => !own.includes(v)).reverse()];
  return { ...profile, versions: sorted, choice };
}
