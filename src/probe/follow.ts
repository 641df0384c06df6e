import { probe, type ProbeOptions, type TargetReport } from './probe.js';

/** Redirect hops followed from one starting target at the most. */
export const DEFAULT_MAX_HOPS = 4;

const key = (host: string, port: number): string => `${host.toLowerCase()}|${port}`;

/**
 * Probes a target with `deep` on and then, for every notification server its dispatch answers
 * name, that server too (same versions and options), hop after hop. Redirects to the same server,
 * to `0` (start again here), to a server already probed (a loop) or past `maxHops` are recorded
 * with the reason and not followed. Reports come back in the order probed, each followed one
 * carrying `via`.
 */
export async function probeFollowing(options: ProbeOptions & { maxHops?: number }): Promise<TargetReport[]> {
  const { maxHops = DEFAULT_MAX_HOPS, ...probeOptions } = options;
  const reports: TargetReport[] = [];
  const visited = new Set<string>();
  const queue: { host: string; port: number | undefined; via?: { host: string; port: number }; depth: number }[] = [
    { host: options.host, port: options.port, depth: 0 },
  ];
  for (let item = queue.shift(); item; item = queue.shift()) {
    const report = await probe({ ...probeOptions, host: item.host, ...(item.port !== undefined ? { port: item.port } : {}), deep: true });
    if (item.via) report.via = item.via;
    reports.push(report);
    visited.add(key(report.host, report.port));
    if (report.address) visited.add(key(report.address, report.port));
    for (const r of report.redirects ?? []) {
      if (r.to === '0') r.reason = 'this-server';
      else if (r.host === null || r.port === null) r.reason = 'unparsable';
      else if ((r.host === report.host || r.host === report.address) && r.port === report.port) r.reason = 'same-server';
      else if (visited.has(key(r.host, r.port)) || queue.some((q) => key(q.host, q.port ?? 0) === key(r.host ?? '', r.port ?? 0))) r.reason = 'loop';
      else if (item.depth >= maxHops) r.reason = 'too-deep';
      else {
        r.followed = true;
        delete r.reason;
        queue.push({ host: r.host, port: r.port, via: { host: report.host, port: report.port }, depth: item.depth + 1 });
      }
    }
  }
  return reports;
}
