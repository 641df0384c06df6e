import { isIP } from 'node:net';
import { resolveTarget, type ResolvedAddress } from '../transport/resolve.js';
import { addressClass, isHostName, mayResolve, policyAllows } from './follow-policy.js';
import { DEFAULT_TIMEOUT_MS, probe, type ProbeOptions, type RedirectSummary, type TargetReport } from './probe.js';
import { targetKey } from '../core/model.js';
import { BudgetRegistry, rateLimiterFor } from './budget.js';

export { DEFAULT_MAX_HOPS, DEFAULT_FOLLOW_MAX } from '../core/defaults.js';
import { DEFAULT_FOLLOW_MAX, DEFAULT_MAX_HOPS } from '../core/defaults.js';

export interface FollowOptions {
  /** Redirect hops from the starting target at the most (default DEFAULT_MAX_HOPS). */
  maxHops?: number;
  /** Servers followed from the starting target at the most (default DEFAULT_FOLLOW_MAX); the rest get reason `cap`. */
  followMax?: number;
  /**
   * Follow any address a redirect names, and resolve any valid host name it names. Default: only
   * the same host or an address of the same class as the target (loopback, private, link-local,
   * public), and only names under the target's own domain.
   */
  followAny?: boolean;
  /** Hosts and addresses never probed (`--exclude`): a redirect to one is listed as `excluded`. */
  exclude?: (host: string) => boolean;
}

const key = targetKey;

interface Hop {
  host: string;
  port: number | undefined;
  /** The address decided on when the redirect was checked: probed as is, never resolved again. */
  pinned?: ResolvedAddress;
  via?: { host: string; port: number };
  depth: number;
}

type Verdict = { follow: ResolvedAddress } | { reason: NonNullable<RedirectSummary['reason']> };

/**
 * Probes a target with `deep` on and then, for every notification server its dispatch answers
 * name, that server too (same versions and options), hop after hop. Redirects to the same server,
 * to `0` (start again here), to a server already probed (a loop), past `maxHops`, past `followMax`
 * servers, to an invalid host name or outside the follow policy are recorded with the reason and
 * not followed. Reports come back in the order probed, each followed one carrying `via`.
 */
export async function probeFollowing(options: ProbeOptions & FollowOptions): Promise<TargetReport[]> {
  const { maxHops = DEFAULT_MAX_HOPS, followMax = DEFAULT_FOLLOW_MAX, followAny = false, exclude, ...given } = options;
  // A server reached by several hops (or also listed) keeps one budget: share it across the hops.
  const rateLimiter = given.rateLimiter ?? rateLimiterFor(given.maxRate);
  const probeOptions = {
    ...given,
    budgets: given.budgets ?? new BudgetRegistry(),
    ...(rateLimiter ? { rateLimiter } : {}),
  };
  const reports: TargetReport[] = [];
  const visited = new Set<string>();
  const queue: Hop[] = [{ host: options.host, port: options.port, depth: 0 }];
  let followed = 0;
  const queued = (host: string, port: number): boolean =>
    queue.some((q) => key(q.host, q.port ?? 0) === key(host, port));

  /** Everything but the resolution runs first, so a redirect cut anyway sends no name to the resolver. */
  const decide = async (report: TargetReport, item: Hop, r: RedirectSummary): Promise<Verdict> => {
    if (r.to === '0') return { reason: 'this-server' };
    if (r.host === null || r.port === null) return { reason: 'unparsable' };
    const host = r.host;
    const port = r.port;
    const literal = isIP(host.replace(/%.*$/, '')) !== 0;
    if (!literal && !isHostName(host)) return { reason: 'invalid-host' };
    // Before any lookup: an excluded name never reaches the resolver, as for the targets of a list.
    if (exclude?.(host)) return { reason: 'excluded' };
    const sameName = host.toLowerCase().replace(/\.$/, '') === report.host.toLowerCase().replace(/\.$/, '');
    if ((sameName || host === report.address) && port === report.port) return { reason: 'same-server' };
    if (visited.has(key(host, port)) || queued(host, port)) return { reason: 'loop' };
    if (item.depth >= maxHops) return { reason: 'too-deep' };
    if (report.address === null || report.family === null) return { reason: 'unparsable' };
    const target = { host: report.host, address: report.address };
    if (literal && !followAny && !policyAllows(target, host)) return { reason: 'policy' };
    if (!literal && !followAny && !sameName && !mayResolve(report.host, host)) return { reason: 'policy' };
    if (followed >= followMax) return { reason: 'cap' };
    if (literal) return { follow: { address: host, family: isIP(host.replace(/%.*$/, '')) === 6 ? 6 : 4 } };
    if (sameName) return { follow: { address: report.address, family: report.family } };
    const resolved = await resolveTarget(host, probeOptions.lookup, {
      timeoutMs: probeOptions.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      signal: probeOptions.signal,
    });
    if (!resolved.ok) return { reason: 'unresolved' };
    r.address = resolved.address.address;
    if (exclude?.(resolved.address.address)) return { reason: 'excluded' };
    if (!followAny && !policyAllows(target, resolved.address.address)) return { reason: 'policy' };
    if (visited.has(key(resolved.address.address, port))) return { reason: 'loop' };
    return { follow: resolved.address };
  };

  for (let item = queue.shift(); item; item = queue.shift()) {
    const pinned = item.pinned;
    const report = await probe({
      ...probeOptions,
      host: item.host,
      ...(item.port !== undefined ? { port: item.port } : {}),
      ...(pinned ? { lookup: async () => [pinned] } : {}),
      deep: true,
    });
    if (item.via) report.via = item.via;
    reports.push(report);
    visited.add(key(report.host, report.port));
    if (report.address) visited.add(key(report.address, report.port));
    for (const r of report.redirects ?? []) {
      const verdict = await decide(report, item, r);
      const cls = addressClass(r.address ?? r.host ?? '');
      if (cls) r.addressClass = cls;
      if ('reason' in verdict) {
        r.followed = false;
        r.reason = verdict.reason;
        continue;
      }
      followed++;
      r.followed = true;
      delete r.reason;
      queue.push({
        host: r.host ?? verdict.follow.address,
        port: r.port ?? undefined,
        pinned: verdict.follow,
        via: { host: report.host, port: report.port },
        depth: item.depth + 1,
      });
    }
  }
  return reports;
}
