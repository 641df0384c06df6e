/** `msnp-probe/fingerprint`: the behavioural probes and signatures behind `--fingerprint` (docs/FINGERPRINTS.md). */
export { fingerprint, runScript, MAX_MATCHES } from './probe.js';
export type { FingerprintReport, FingerprintInput } from './probe.js';
export { rankMatches, verdictOf, matchSignature, resolveSignatures } from './match.js';
export type { Signature, FingerprintMatch, FingerprintVerdict, Disagreement } from './match.js';
export { SIGNATURES } from './signatures.js';
export type { SignatureEntry } from './signatures.js';
export { TRAIT_ANSWERS, TRAIT_NAMES, TRAIT_PROBES, ScriptConversation } from './traits.js';
export type { TraitName, TraitResult, Traits, Script, ScriptResult } from './traits.js';
