import type { Gauge, Registry } from 'prom-client';
import { STATUSES } from '../codec/outcome.js';
import type { TargetReport } from '../probe/probe.js';

/**
 * The metrics of one `/probe` answer. Names and labels are a contract (docs/EXPORTER.md): add,
 * never rename. Each request gets its own registry, so concurrent scrapes never share a series.
 */
export const PROBE_METRICS = {
  success: 'msnp_probe_success',
  durationSeconds: 'msnp_probe_duration_seconds',
  deadlineSeconds: 'msnp_probe_deadline_seconds',
  deadlineExceeded: 'msnp_probe_deadline_exceeded',
  ipProtocol: 'msnp_probe_ip_protocol',
  versionAccepted: 'msnp_version_accepted',
  versionStatus: 'msnp_version_status',
  versionDurationSeconds: 'msnp_version_duration_seconds',
  versionsAccepted: 'msnp_versions_accepted',
  preferredVersion: 'msnp_preferred_version',
  sessionConfirmed: 'msnp_session_confirmed',
  fingerprintMatch: 'msnp_fingerprint_match',
  fingerprintTraitsAgreeing: 'msnp_fingerprint_traits_agreeing',
  fingerprintTraitsCompared: 'msnp_fingerprint_traits_compared',
} as const;

export interface ProbeResult {
  /** The report, or null when the deadline passed before the probe finished. */
  report: TargetReport | null;
  /** Seconds from the request to the end of the probe. */
  durationSeconds: number;
  /** The deadline the probe ran under, in seconds. */
  deadlineSeconds: number;
  /** Whether `deep` was on (the session metric exists only then). */
  deep: boolean;
}

/** Builds the registry of one probe's answer. */
export async function probeRegistry(result: ProbeResult): Promise<Registry> {
  // Loaded on first use, not at start-up: only the exporter needs it (the CLI bundle leaves it out).
  const prom = await import('prom-client');
  const gauge = (registry: Registry, name: string, help: string, labelNames: string[] = []): Gauge<string> =>
    new prom.Gauge({ name, help, labelNames, registers: [registry] });
  const registry = new prom.Registry();
  const m = PROBE_METRICS;
  const { report } = result;
  gauge(registry, m.success, 'Whether the target answered as an MSNP server (1) or not (0).').set(
    report?.answered ? 1 : 0,
  );
  gauge(registry, m.durationSeconds, 'How long the probe took, in seconds.').set(result.durationSeconds);
  gauge(
    registry,
    m.deadlineSeconds,
    'The deadline the probe ran under (module timeout capped by the scrape timeout).',
  ).set(result.deadlineSeconds);
  gauge(
    registry,
    m.deadlineExceeded,
    'Whether the probe was cut off by the deadline before it finished (1): no results.',
  ).set(report === null ? 1 : 0);
  if (report === null) return registry;
  gauge(registry, m.ipProtocol, 'The IP version of the address probed (4 or 6; 0: the name did not resolve).').set(
    report.family ?? 0,
  );
  const accepted = gauge(registry, m.versionAccepted, 'Whether the server accepted this MSNP version (1) or not (0).', [
    'version',
  ]);
  const status = gauge(
    registry,
    m.versionStatus,
    'The status the probe of this version ended in: 1 for that status, 0 for every other.',
    ['version', 'status'],
  );
  const duration = gauge(registry, m.versionDurationSeconds, 'How long the probe of this version took, in seconds.', [
    'version',
  ]);
  for (const p of report.probes) {
    const version = String(p.version);
    accepted.set({ version }, p.status === 'accepted' ? 1 : 0);
    for (const s of STATUSES) status.set({ version, status: s }, p.status === s ? 1 : 0);
    duration.set({ version }, Math.round(p.elapsedMs * 10) / 10_000);
  }
  gauge(registry, m.versionsAccepted, 'How many of the probed versions the server accepted.').set(
    report.accepted.length,
  );
  gauge(registry, m.preferredVersion, 'The version the server chose from the combined offer (0: none).').set(
    report.preferred ?? 0,
  );
  if (result.deep) {
    const session = gauge(
      registry,
      m.sessionConfirmed,
      'With deep: whether a login after the accepted VER could go on (1: confirmed; 0: claimed-only or refused).',
      ['version'],
    );
    for (const p of report.probes) {
      if (p.status === 'accepted') session.set({ version: String(p.version) }, p.deep?.session === 'confirmed' ? 1 : 0);
    }
  }
  const best = report.fingerprint?.matches[0];
  const verdict = report.fingerprint?.verdict;
  if (best && verdict) {
    // An info-style series: the labels carry the answer, so a dashboard can show it and alert on a change.
    gauge(
      registry,
      m.fingerprintMatch,
      'With fingerprint: 1 for the signature that matched best (match: every trait compared agrees; closest: not).',
      ['signature', 'implementation', 'kind'],
    ).set({ signature: best.id, implementation: best.implementation, kind: verdict.kind }, 1);
    gauge(registry, m.fingerprintTraitsAgreeing, 'With fingerprint: traits of the best signature that agree.').set(
      best.agree,
    );
    gauge(registry, m.fingerprintTraitsCompared, 'With fingerprint: traits compared with the best signature.').set(
      best.compared,
    );
  }
  return registry;
}
