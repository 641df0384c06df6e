import { run, type ConnectOptions } from '../version-probe.js';
import { rankMatches, verdictOf, type FingerprintMatch, type FingerprintVerdict } from './match.js';
import {
  probeVersion,
  ScriptConversation,
  TRAIT_PROBES,
  overGateway,
  traitsOf,
  unmeasuredOver,
  versionsTrait,
  type Script,
  type ScriptResult,
  type Traits,
} from './traits.js';
import type { TransportName } from '../../core/model.js';
import { MAX_MATCHES } from '../../core/limits.js';

export interface FingerprintReport {
  /** Every trait by name, measured or not (unmeasured ones say why). */
  traits: Traits;
  /** The best candidates, best first. */
  matches: FingerprintMatch[];
  /** The one-line verdict; null when nothing could be compared. */
  verdict: FingerprintVerdict | null;
  /** The version the single-version behaviour probes offered (MSNP8 if accepted, else the lowest accepted). */
  version: number;
  /** Connections the fingerprint made. */
  connections: number;
  /** Set when the target was not fingerprinted: it never answered as MSNP. */
  skipped?: 'no-msnp-answer';
}

export { MAX_MATCHES } from '../../core/limits.js';

/** One fingerprint connection over the target's transport. Never rejects except on abort. */
export async function runScript(options: ConnectOptions, script: Script): Promise<ScriptResult> {
  const conversation = new ScriptConversation(script);
  const done = await run(options, conversation);
  return done.result;
}

export interface FingerprintInput {
  /** The per-version probes of the same run (for the `versions` trait and the version to offer). */
  probes: readonly { version: number; status: string }[];
  answered: boolean;
  transport: TransportName;
  /** Runs one connection under the caller's pacing, concurrency and shared budget. */
  run: (script: Script) => Promise<ScriptResult>;
}

/**
 * Asks every behavioural question the transport can carry (at most one connection each) and ranks
 * the signatures against the answers.
 */
export async function fingerprint(input: FingerprintInput): Promise<FingerprintReport> {
  const accepted = input.probes.filter((p) => p.status === 'accepted').map((p) => p.version);
  const version = probeVersion(accepted);
  if (!input.answered) {
    return { traits: {}, matches: [], verdict: null, version, connections: 0, skipped: 'no-msnp-answer' };
  }
  let connections = 0;
  const parts = await Promise.all(
    TRAIT_PROBES.map(async (probe): Promise<Traits> => {
      if (input.transport === 'http' && !probe.overGateway) return unmeasuredOver(probe, 'http');
      const script = probe.script(version);
      connections++;
      const result = await input.run(script);
      const traits = traitsOf(probe, result, version, script);
      return input.transport === 'http' ? overGateway(traits) : traits;
    }),
  );
  const traits: Traits = Object.assign({}, ...parts, { versions: versionsTrait(input.probes) }) as Traits;
  const ranked = rankMatches(traits);
  return { traits, matches: ranked.slice(0, MAX_MATCHES), verdict: verdictOf(ranked), version, connections };
}
