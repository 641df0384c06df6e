import { systemLookup, type LookupFn } from '../transport/resolve.js';
import type { AddressFilter } from './address.js';

/**
 * A lookup that keeps only the addresses of `family` (-4/-6) and drops excluded ones, so a name
 * never leads to an address the user ruled out. A name left with no address fails as one with
 * none at all: `unreachable` with errno ENOTFOUND.
 */
export function filteredLookup(
  options: { family?: 4 | 6 | undefined; exclude?: AddressFilter | null | undefined },
  lookup: LookupFn = systemLookup,
): LookupFn {
  const { family, exclude } = options;
  return async (host) => {
    const found = await lookup(host);
    const kept = found.filter((a) => (family === undefined || a.family === family) && !exclude?.excludes(a.address));
    if (kept.length > 0) return kept;
    throw Object.assign(new Error(`${host}: no ${family === undefined ? '' : `IPv${family} `}address to probe`), {
      code: 'ENOTFOUND',
    });
  };
}
