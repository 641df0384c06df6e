import { formatVersions, parseRange } from '../../input/range.js';
import { SIGNATURES, type SignatureEntry } from './signatures.js';
import { NO_REPLY, type TraitName, type Traits } from './traits.js';

/** A signature with `extends` applied. */
export interface Signature {
  id: string;
  implementation: string;
  era: string;
  profiles: string[];
  source: string;
  versions: number[] | null;
  traits: Record<string, string[]>;
  inferred: string[];
}

export interface Disagreement {
  trait: string;
  expected: string;
  got: string;
}

export interface FingerprintMatch {
  id: string;
  /** `Escargot (2019-08-10 to 2020-04-10)`. */
  label: string;
  implementation: string;
  era: string;
  profiles: string[];
  /** Traits measured on both sides that agree. */
  agree: number;
  /** Traits measured and known to the signature (agreeing or not). */
  compared: number;
  disagree: Disagreement[];
  /** How many of the agreeing traits the signature only infers. */
  inferred: number;
}

export interface FingerprintVerdict {
  /** `match`: a signature agrees on every trait compared; `closest`: none does. */
  kind: 'match' | 'closest';
  /** The best match's id, and those tied with it. */
  ids: string[];
  /** The one line shown in the table. */
  text: string;
}

/** Resolves `extends` (data errors are programming errors: the table ships with the code). */
export function resolveSignatures(entries: readonly SignatureEntry[] = SIGNATURES): Signature[] {
  const byId = new Map(entries.map((e) => [e.id, e]));
  const resolved = new Map<string, Signature>();
  const resolve = (entry: SignatureEntry, seen: Set<string>): Signature => {
    const done = resolved.get(entry.id);
    if (done) return done;
    if (seen.has(entry.id)) throw new Error(`signature ${entry.id}: extends itself`);
    seen.add(entry.id);
    let parent: Signature | null = null;
    if (entry.extends !== undefined) {
      const p = byId.get(entry.extends);
      if (!p) throw new Error(`signature ${entry.id}: extends unknown ${entry.extends}`);
      parent = resolve(p, seen);
    }
    const traits: Record<string, string[]> = { ...(parent?.traits ?? {}) };
    for (const [name, expected] of Object.entries(entry.traits ?? {})) {
      traits[name] = Array.isArray(expected) ? [...expected] : [expected];
    }
    const out: Signature = {
      id: entry.id,
      implementation: entry.implementation,
      era: entry.era,
      profiles: [...entry.profiles],
      source: entry.source,
      versions: entry.versions !== undefined ? parseRange(entry.versions) : (parent?.versions ?? null),
      traits,
      inferred: [...(entry.inferred ?? parent?.inferred ?? [])],
    };
    resolved.set(entry.id, out);
    return out;
  };
  return entries.map((e) => resolve(e, new Set()));
}

export function labelOf(s: { implementation: string; era: string }): string {
  return `${s.implementation} (${s.era})`;
}

/** Compares measured traits with one signature: unmeasured traits and ones it does not know are not counted. */
export function matchSignature(traits: Traits, signature: Signature): FingerprintMatch {
  let agree = 0;
  let inferred = 0;
  const disagree: Disagreement[] = [];
  const names = Object.keys(traits) as TraitName[];
  for (const name of names) {
    const got = traits[name];
    if (!got?.measured) continue;
    let ok: boolean;
    let expected: string;
    if (name === 'versions') {
      if (signature.versions === null || !got.probed || !got.accepted) continue;
      const known = signature.versions;
      const probed = got.probed;
      const accepted = new Set(got.accepted);
      ok = probed.every((v) => known.includes(v) === accepted.has(v));
      const want = probed.filter((v) => known.includes(v));
      expected = want.length ? formatVersions(want) : 'none';
    } else {
      const want = signature.traits[name];
      if (want === undefined) continue;
      const noReply = got.answer === NO_REPLY && (want.includes('closed') || want.includes('silent'));
      ok = want.includes(got.answer) || noReply;
      expected = want.join(' | ');
    }
    if (ok) {
      agree++;
      if (signature.inferred.includes(name)) inferred++;
    } else {
      disagree.push({ trait: name, expected, got: got.answer });
    }
  }
  return {
    id: signature.id,
    label: labelOf(signature),
    implementation: signature.implementation,
    era: signature.era,
    profiles: [...signature.profiles],
    agree,
    compared: agree + disagree.length,
    disagree,
    inferred,
  };
}

/** Every signature, best first: fewest disagreements, then most agreements, then fewest inferred ones. */
export function rankMatches(
  traits: Traits,
  signatures: readonly Signature[] = resolveSignatures(),
): FingerprintMatch[] {
  const all = signatures.map((s) => matchSignature(traits, s));
  return all
    .map((m, order) => ({ m, order }))
    .sort(
      (a, b) =>
        a.m.disagree.length - b.m.disagree.length ||
        b.m.agree - a.m.agree ||
        a.m.inferred - b.m.inferred ||
        a.order - b.order,
    )
    .map((x) => x.m);
}

/** Below this many compared traits a clean match says too little to name anything. */
export const MIN_COMPARED = 3;

/** The one-line verdict: `looks like Escargot (...), 12 of 12 traits`, or the closest candidate. */
export function verdictOf(matches: readonly FingerprintMatch[]): FingerprintVerdict | null {
  const best = matches[0];
  if (!best || best.compared === 0) return null;
  // Agreement with an expectation no source settles is weaker evidence: say how much of it there is.
  const of = (m: FingerprintMatch): string =>
    `${m.agree} of ${m.compared} trait${m.compared === 1 ? '' : 's'}${m.inferred ? ` (${m.inferred} inferred)` : ''}`;
  if (best.disagree.length === 0 && best.compared >= MIN_COMPARED) {
    const tied = matches.filter((m) => m.disagree.length === 0 && m.agree === best.agree);
    const others = tied.slice(1).map((m) => m.label);
    const also = others.length ? ` (or ${others.join(', ')})` : '';
    // The emulator profiles that model it: `msnp-probe serve --profile P` stands in for this server.
    const profiles = best.profiles.length ? `; emulator profile ${best.profiles.join(', ')}` : '';
    const text = `looks like ${best.label}${also}, ${of(best)}${profiles}`;
    return { kind: 'match', ids: tied.map((m) => m.id), text };
  }
  const differs = best.disagree.map((d) => d.trait).join(', ');
  return {
    kind: 'closest',
    ids: [best.id],
    text: `no known implementation; closest: ${best.label}, ${of(best)}${differs ? ` (differs: ${differs})` : ''}`,
  };
}
