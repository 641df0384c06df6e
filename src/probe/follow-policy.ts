import { BlockList, isIP } from 'node:net';

/**
 * Where an address sits: `reserved` covers addresses no server should be reached at (0.0.0.0/8,
 * `::`, multicast, 240/4 and broadcast); a connection to some of them lands on this machine.
 */
export type AddressClass = 'loopback' | 'private' | 'link-local' | 'public' | 'reserved';

type Blocks = { check(address: string, type: 'ipv4' | 'ipv6'): boolean };

/** Built on its first check, not at import: a probe that follows no redirect never classifies an address. */
function blocks(v4: [string, number][], v6: [string, number][]): Blocks {
  let list: BlockList | undefined;
  return {
    check(address, type) {
      if (list === undefined) {
        list = new BlockList();
        for (const [net, bits] of v4) list.addSubnet(net, bits, 'ipv4');
        for (const [net, bits] of v6) list.addSubnet(net, bits, 'ipv6');
      }
      return list.check(address, type);
    },
  };
}

// BlockList also matches IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) against the IPv4 rules.
const CLASSES: [AddressClass, Blocks][] = [
  ['loopback', blocks([['127.0.0.0', 8]], [['::1', 128]])],
  [
    'reserved',
    blocks(
      [
        ['0.0.0.0', 8],
        ['224.0.0.0', 4],
        ['240.0.0.0', 4],
      ],
      [
        ['::', 128],
        ['ff00::', 8],
      ],
    ),
  ],
  ['link-local', blocks([['169.254.0.0', 16]], [['fe80::', 10]])],
  [
    'private',
    blocks(
      [
        ['10.0.0.0', 8],
        ['172.16.0.0', 12],
        ['192.168.0.0', 16],
        ['100.64.0.0', 10],
      ],
      [['fc00::', 7]],
    ),
  ],
];

/** The class of an IP address; null when `address` is not one. */
export function addressClass(address: string): AddressClass | null {
  const family = isIP(address);
  if (family === 0) return null;
  const type = family === 6 ? 'ipv6' : 'ipv4';
  // A zone index (fe80::1%eth0) names an interface, not part of the address.
  const bare = address.replace(/%.*$/, '');
  for (const [name, list] of CLASSES) if (list.check(bare, type)) return name;
  return 'public';
}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

/**
 * An RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, 1-63
 * characters each, at most 253 in all (one trailing dot allowed), and a last label that is not
 * all digits (that would be a malformed address, not a name). Anything else a server writes in an
 * XFR never reaches the resolver.
 */
export function isHostName(name: string): boolean {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare.length === 0 || bare.length > 253) return false;
  const labels = bare.split('.');
  if (/^\d+$/.test(labels[labels.length - 1] ?? '')) return false;
  return labels.every((l) => LABEL.test(l));
}

const canonical = (name: string): string => name.toLowerCase().replace(/\.$/, '');

/**
 * The names a redirect from `target` may resolve under the default policy: the target's own name
 * and names under its parent domain (from `messenger.example.net`, `ns7.example.net`). A server
 * cannot make the prober ask the resolver about names of its choosing elsewhere.
 */
export function mayResolve(targetHost: string, name: string): boolean {
  if (isIP(targetHost) !== 0) return false;
  const target = canonical(targetHost);
  const wanted = canonical(name);
  if (wanted === target) return true;
  const labels = target.split('.');
  const parent = labels.length >= 3 ? labels.slice(1).join('.') : target;
  return wanted.endsWith(`.${parent}`);
}

export interface PolicyTarget {
  /** As given (a name or an address). */
  host: string;
  /** The address it was reached at. */
  address: string;
}

/**
 * Whether the default policy lets a redirect to `address` (the redirect's own address, or what
 * its name resolved to) be followed from `target`: the same host, or an address of the same class
 * (a loopback target may lead to loopback servers, a public one to public servers); never to a
 * reserved address.
 */
export function policyAllows(target: PolicyTarget, address: string): boolean {
  if (address === target.address) return true;
  const to = addressClass(address);
  return to !== null && to !== 'reserved' && to === addressClass(target.address);
}
