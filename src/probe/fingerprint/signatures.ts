/**
 * The signature table: data, not code. One entry per implementation (and per era where its
 * behaviour changed). docs/FINGERPRINTS.md explains the format and how to add an entry; the
 * behaviour behind each entry is in docs/PROTOCOL.md.
 *
 * - `versions`: the accepted set, as a range (`2-21`, `8,10-18`), compared only on the versions a
 *   run probed with a yes or no answer.
 * - `traits`: the expected answer per trait (a list: any of them fits). A trait left out is not
 *   known for that implementation and is not counted.
 * - `inferred`: traits whose expected answer no source settles (modelled, not observed).
 * - `extends`: start from another entry's fields, then apply this one's (eras of one server).
 */
export interface SignatureEntry {
  id: string;
  implementation: string;
  era: string;
  /** Emulator profiles (`msnp-probe serve --profile`) that model this entry. */
  profiles: string[];
  source: string;
  extends?: string;
  versions?: string;
  traits?: Record<string, string | string[]>;
  inferred?: string[];
}

const ESCARGOT_HISTORY =
  'Escargot front/msn/msnp_ns.py and its git history (docs/PROTOCOL.md, "Escargot through time")';

/** The Microsoft traits no source records, modelled on the emulator's Microsoft profiles. */
const MICROSOFT_INFERRED = [
  'ascending-offer',
  'no-cvr0',
  'lowercase-ver',
  'unknown-command',
  'leading-zero-trid',
  'second-ver',
  'split-segment',
  'bare-lf',
];

export const SIGNATURES: readonly SignatureEntry[] = [
  {
    id: 'escargot@2017-05-30',
    implementation: 'Escargot',
    era: '2017-05-30 to 2017-12-21',
    profiles: ['escargot-2017', 'escargot@2017-05-30'],
    source: ESCARGOT_HISTORY,
    versions: '2-21',
    traits: {
      'ascending-offer': 'highest',
      'no-cvr0': 'accepted',
      'lowercase-ver': 'accepted',
      'unknown-command': 'ignored',
      'leading-zero-trid': 'as-written',
      'second-ver': 'answered',
      'split-segment': 'accepted',
      'bare-lf': 'accepted',
      // No trId check yet: the MSNP token is taken for the trId and the rest refused.
      'no-trid': 'answered',
      'reject-form': 'list',
      'md5-unknown-handle': '911',
      'wrong-auth-method': 'challenge',
    },
    inferred: ['no-trid'],
  },
  {
    id: 'escargot@2017-12-22',
    extends: 'escargot@2017-05-30',
    implementation: 'Escargot',
    era: '2017-12-22 to 2018-03-24',
    profiles: ['escargot@2017-12-22'],
    source: ESCARGOT_HISTORY,
    traits: { 'ascending-offer': 'own-order' },
  },
  {
    id: 'escargot@2018-03-25',
    extends: 'escargot@2017-12-22',
    implementation: 'Escargot',
    era: '2018-03-25 to 2018-12-11',
    profiles: ['escargot@2018-03-25'],
    source: ESCARGOT_HISTORY,
    traits: { 'reject-form': 'zero' },
  },
  {
    id: 'escargot@2018-12-12',
    extends: 'escargot@2018-03-25',
    implementation: 'Escargot',
    era: '2018-12-12 to 2019-06-18',
    profiles: ['escargot@2018-12-12'],
    source: ESCARGOT_HISTORY,
    traits: { 'wrong-auth-method': 'gcf-challenge' },
  },
  {
    id: 'escargot@2019-06-19',
    extends: 'escargot@2018-12-12',
    implementation: 'Escargot',
    era: '2019-06-19 to 2019-08-09',
    profiles: ['escargot@2019-06-19'],
    source: ESCARGOT_HISTORY,
    // The trId check is dated with the 715 change (unverified): from here a VER without one is closed.
    traits: { 'second-ver': '715', 'no-trid': 'closed' },
    inferred: ['no-trid'],
  },
  {
    id: 'escargot@2019-08-10',
    extends: 'escargot@2019-06-19',
    implementation: 'Escargot',
    era: '2019-08-10 to 2020-04-10',
    profiles: ['escargot@2019-08-10'],
    source: ESCARGOT_HISTORY,
    traits: { 'wrong-auth-method': 'closed' },
  },
  {
    id: 'escargot@2020-04-11',
    extends: 'escargot@2019-08-10',
    implementation: 'Escargot',
    era: '2020-04-11 or later',
    profiles: ['escargot', 'escargot@2020-04-11'],
    source: 'Escargot at HEAD, run on loopback, November and December 2026 (docs/PROTOCOL.md)',
    traits: { 'md5-unknown-handle': 'challenge' },
    inferred: [],
  },
  {
    id: 'remessenger',
    implementation: 'ReMessenger LivePulse',
    era: '2026',
    profiles: ['remessenger'],
    source: 'ReMessenger "LivePulse" public Node code, run on loopback, December 2026 (docs/PROTOCOL.md)',
    versions: '2-22',
    traits: {
      'ascending-offer': 'sorted-echo',
      'no-cvr0': 'rejected',
      'lowercase-ver': 'silent',
      // The VER after the unknown command is in the same read, which it drops.
      'unknown-command': 'silent',
      'leading-zero-trid': 'as-written',
      'second-ver': 'answered',
      'split-segment': 'closed',
      'bare-lf': 'closed',
      'no-trid': 'closed',
      'reject-form': 'zero',
      'md5-unknown-handle': '911',
      'wrong-auth-method': '502',
    },
  },
  // Microsoft's servers are gone: the accepted sets and the rejection form are documented
  // (docs/PROTOCOL.md server table); how they treated odd input is modelled on the emulator's
  // Microsoft profiles and marked inferred. All were dispatch servers: a first USR got an XFR.
  {
    id: 'microsoft-2000',
    implementation: 'Microsoft',
    era: '2000',
    profiles: ['msn-2000'],
    source: 'docs/PROTOCOL.md server table (Microsoft 2000: MSNP2-5); the rest inferred',
    versions: '2-5',
    traits: {
      'ascending-offer': 'client-echo',
      'no-cvr0': 'accepted',
      'lowercase-ver': 'closed',
      'unknown-command': 'closed',
      'leading-zero-trid': 'normalized',
      'second-ver': '715',
      'split-segment': 'accepted',
      'bare-lf': 'accepted',
      'no-trid': 'closed',
      'reject-form': 'zero',
      'md5-unknown-handle': 'xfr',
      'wrong-auth-method': 'rejected',
    },
    inferred: [...MICROSOFT_INFERRED],
  },
  {
    id: 'microsoft-2002',
    extends: 'microsoft-2000',
    implementation: 'Microsoft',
    era: '2002',
    profiles: ['msn-2002'],
    source: 'docs/PROTOCOL.md server table (Microsoft 2002: MSNP2-7); the rest inferred',
    versions: '2-7',
  },
  {
    id: 'microsoft-2003',
    extends: 'microsoft-2000',
    implementation: 'Microsoft',
    era: 'from October 2003',
    profiles: ['msn-2003'],
    source: 'docs/PROTOCOL.md server table (MSNP8 upward, 8-10 to Messenger 6.1); the rest inferred',
    versions: '8-10',
    traits: { 'md5-unknown-handle': 'rejected' },
  },
  {
    id: 'microsoft-2007',
    extends: 'microsoft-2003',
    implementation: 'Microsoft',
    era: 'July 2007',
    profiles: ['msn-2007'],
    source: 'the July 2007 post in docs/PROTOCOL.md (MSNP8-15, MSNP16 answered); the rest inferred',
    versions: '8-16',
    // TWN under MSNP15: the emulator's dispatch closes; what Microsoft did is not recorded.
    traits: { 'wrong-auth-method': 'closed' },
    inferred: [...MICROSOFT_INFERRED, 'wrong-auth-method'],
  },
  {
    id: 'microsoft-2010',
    extends: 'microsoft-2007',
    implementation: 'Microsoft',
    era: '2010',
    profiles: ['msn-2010'],
    source: 'docs/PROTOCOL.md server table (MSNP9 gone, MSNP8 still accepted); the rest inferred',
    versions: '8,10-18',
  },
  {
    id: 'microsoft-2014',
    extends: 'microsoft-2007',
    implementation: 'Microsoft',
    era: 'about 2014',
    profiles: ['msn-2014'],
    source: 'docs/PROTOCOL.md server table (11, 12, 14, 15, 16); the rest inferred',
    versions: '11-12,14-16',
  },
];
