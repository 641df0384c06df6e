import { msnpError } from '../core/errors.js';
import { range } from '../input/range.js';

/** How a profile answers VER. Each field is a behaviour some real server showed (see README). */
export interface Profile {
  name: string;
  /**
   * After VER. `escargot`: one server does it all; CVR echoes the client's version; auth gates
   * (silent close on the wrong method, 911 for a handle without `@`); GCF policies before
   * `USR ... S` from MSNP13. `microsoft`: a dispatch server that answers the first USR with an XFR
   * to a notification server, which then gives the auth challenge.
   */
  family: 'escargot' | 'microsoft' | 'remessenger';
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
  /** Escargot family: the behaviour in force on the profile's date (see ESCARGOT_ERAS). */
  escargot?: EscargotTraits;
  /** ReMessenger: accounts its login knows (lower case); any other handle gets `911`. */
  accounts?: readonly string[];
}

/** What changed in Escargot's VER and login handling over time (docs/PROTOCOL.md, "Escargot through time"). */
export interface EscargotTraits {
  /** The date this state was reached (ISO). */
  date: string;
  /** `highest`: the highest version offered wins. `own`: the first of ESCARGOT_ORDER offered wins. */
  pick: 'highest' | 'own';
  /** `list-open`: `VER t 0 <its list>` and stay open. `close`: `VER t 0`, then close. */
  reject: 'list-open' | 'close';
  /** `GCF 0 <len>` + Policies before `USR ... S` from MSNP13. */
  gcfBeforeUsr: boolean;
  /** A second VER gets `715` and a close (before: answered again). */
  secondVer715: boolean;
  /** A VER trId must parse as an integer, else a silent close (before: echoed whatever it was). */
  trIdCheck: boolean;
  /** The auth method must fit the version (else a silent close); before, INF and MD5 at MSNP8+ got `502`. */
  authFitsVersion: boolean;
  /** What `USR t MD5 I <handle>` gets for a handle it has no account for. */
  md5UnknownHandle: '911' | 'salt';
}

/** The first Escargot commit in its public history; earlier dates have no behaviour to model. */
export const ESCARGOT_FIRST_DATE = '2017-05-30';

/**
 * Escargot's history as data: each entry is a dated change, applied in order on top of the first.
 * The trId check is not dated by the history table; it is modelled as arriving with the `715`
 * change (unverified, see docs/PROTOCOL.md).
 */
export const ESCARGOT_ERAS: readonly { from: string; change: Partial<EscargotTraits>; note: string }[] = [
  {
    from: ESCARGOT_FIRST_DATE,
    change: {
      pick: 'highest',
      reject: 'list-open',
      gcfBeforeUsr: false,
      secondVer715: false,
      trIdCheck: false,
      authFitsVersion: false,
      md5UnknownHandle: '911',
    },
    note: 'MSNP2-21, highest offered wins, `VER t 0 MSNP21 ... MSNP2` and stays open, INF/MD5 at 8+ get 502',
  },
  {
    from: '2017-12-22',
    change: { pick: 'own' },
    note: 'picks by its own order 18..2, 19, 20, 21 (rejection list too)',
  },
  { from: '2018-03-25', change: { reject: 'close' }, note: 'a rejection is `VER t 0`, then close' },
  { from: '2018-12-12', change: { gcfBeforeUsr: true }, note: '`GCF 0 <len>` + Policies before `USR ... S` (MSNP13+)' },
  { from: '2019-06-19', change: { secondVer715: true, trIdCheck: true }, note: 'a second VER gets 715; trId checked' },
  {
    from: '2019-08-10',
    change: { authFitsVersion: true },
    note: 'the auth method must fit the version, else silent close',
  },
  { from: '2020-04-11', change: { md5UnknownHandle: 'salt' }, note: 'MD5 `I` for an unknown handle: a salt (was 911)' },
];

/** The Escargot behaviour in force on `date` (ISO `YYYY-MM-DD`, not before ESCARGOT_FIRST_DATE). */
export function escargotTraitsOn(date: string): EscargotTraits {
  let traits = { date } as EscargotTraits;
  for (const era of ESCARGOT_ERAS) if (era.from <= date) traits = { ...traits, ...era.change };
  return traits;
}

const span = range;

/** Escargot's own preference: 18 down to 2, then 19, 20, 21 (it calls 19-21 not really supported). */
export const ESCARGOT_ORDER: readonly number[] = [...span(2, 18).reverse(), 19, 20, 21];

const TODAY = '9999-12-31';

/** Escargot as of `date`; `name` and `summary` default to `escargot@<date>`. */
function escargotOn(date: string, name = `escargot@${date}`, summary?: string): Profile {
  const traits = escargotTraitsOn(date);
  const own = traits.pick === 'own' ? [...ESCARGOT_ORDER] : span(2, 21).reverse();
  return {
    name,
    family: 'escargot',
    summary: summary ?? `Escargot as its code stood on ${date}`,
    source: 'Escargot front/msn/msnp_ns.py and its git history; see docs/PROTOCOL.md',
    versions: span(2, 21),
    choice: own,
    acceptForm: 'single',
    rejectForm: traits.reject,
    caseInsensitive: true,
    unknownCommand: 'ignore',
    escargot: traits,
  };
}

const escargot: Profile = escargotOn(
  TODAY,
  'escargot',
  'Escargot revival server (today): MSNP2-21, picks by its own order',
);

/** Accounts the `remessenger` profile knows (`--handle` can name one to get past the first USR). */
export const REMESSENGER_ACCOUNTS: readonly string[] = ['probe@remessenger.test', 'alice@remessenger.test'];

const remessenger: Profile = {
  name: 'remessenger',
  family: 'remessenger',
  summary: 'ReMessenger "LivePulse": MSNP2-22, sorted echo + CVR0, CVR0 required, CRLF per read or close',
  source: "ReMessenger's public Node code, run on loopback, December 2026; see docs/PROTOCOL.md",
  versions: span(2, 22),
  choice: 'client',
  acceptForm: 'echo',
  rejectForm: 'close',
  caseInsensitive: false,
  unknownCommand: 'ignore',
  accounts: REMESSENGER_ACCOUNTS,
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
  // Most of 2017 ran the first commit's behaviour (until 2017-12-22), so the name is that date.
  'escargot-2017': escargotOn(
    ESCARGOT_FIRST_DATE,
    'escargot-2017',
    'Escargot in 2017 (= escargot@2017-05-30): highest offered wins, rejects with its list and stays open',
  ),
  remessenger,
  'msn-2000': microsoft('msn-2000', span(2, 5), 'Microsoft servers of 2000: MSNP2-5', 'docs/PROTOCOL.md server table'),
  'msn-2002': microsoft('msn-2002', span(2, 7), 'Microsoft servers of 2002: MSNP2-7', 'docs/PROTOCOL.md server table'),
  'msn-2003': microsoft(
    'msn-2003',
    span(8, 10),
    'Microsoft servers from October 2003: MSNP8 upward (8-10, to Messenger 6.1)',
    'docs/PROTOCOL.md server table; 2003 capture `VER 5 MSNP8 CVR0`',
  ),
  'msn-2007': microsoft(
    'msn-2007',
    span(8, 16),
    'Microsoft servers of July 2007: MSNP8-15 current, MSNP16 already answered',
    'the July 2007 blog post in docs/PROTOCOL.md',
  ),
  'msn-2010': microsoft(
    'msn-2010',
    [8, ...span(10, 18)],
    'Microsoft servers of 2010: MSNP9 no longer accepted while MSNP8 still was (8, 10-18)',
    'docs/PROTOCOL.md server table',
  ),
  'msn-2014': microsoft(
    'msn-2014',
    [11, 12, 14, 15, 16],
    'Microsoft servers about 2014: 11, 12, 14, 15, 16 (13 and 9-10 gone)',
    'docs/PROTOCOL.md server table',
  ),
});

export const PROFILE_NAMES: readonly string[] = Object.keys(PROFILES);

/** The default profile for demos: the July 2007 servers of the seed blog post. */
export const DEMO_PROFILE = 'msn-2007';

/**
 * A profile by name, or `escargot@YYYY-MM-DD`: Escargot as of that date (from ESCARGOT_FIRST_DATE on).
 * Throws MsnpProbeError ERR_PROFILE.
 */
export function getProfile(name: string): Profile {
  const profile = Object.hasOwn(PROFILES, name) ? PROFILES[name] : undefined;
  if (profile) return profile;
  const era = /^escargot@(\d{4}-\d{2}-\d{2})$/.exec(name);
  if (era?.[1]) {
    const date = era[1];
    const parsed = new Date(`${date}T00:00:00Z`);
    if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== date) {
      throw msnpError('ERR_PROFILE', `profile "${name}": ${date} is not a calendar date`);
    }
    if (date < ESCARGOT_FIRST_DATE) {
      throw msnpError('ERR_PROFILE', `profile "${name}": Escargot's history starts on ${ESCARGOT_FIRST_DATE}`);
    }
    return escargotOn(date);
  }
  throw msnpError('ERR_PROFILE', `unknown profile "${name}" (known: ${PROFILE_NAMES.join(', ')}, escargot@YYYY-MM-DD)`);
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
