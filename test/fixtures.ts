/**
 * Pure test data, kept apart from helpers.ts so that unit tests do not load the emulator or the
 * schema validator to build a report.
 */
import type { TargetReport, VersionProbe } from '../src/core/model.js';

/**
 * A target report around `probes`, as a probe of 127.0.0.1:1863 builds it: `accepted` and
 * `answered` follow from the probes unless `extra` sets them.
 */
export function targetReport(probes: VersionProbe[], extra: Partial<TargetReport> = {}): TargetReport {
  const accepted = probes.filter((p) => p.status === 'accepted').map((p) => p.version);
  return {
    host: '127.0.0.1',
    port: 1863,
    address: '127.0.0.1',
    family: 4,
    probes,
    accepted,
    preferred: null,
    offer: null,
    answered: accepted.length > 0,
    elapsedMs: 1,
    transport: 'tcp',
    ...extra,
  };
}
