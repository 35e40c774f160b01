import { isIPv4, isIPv6 } from 'node:net';

/**
 * Is an IP address on the public internet? The app calls hosts that an install request names,
 * so in production those hosts must not lead into the app's own network: loopback, private
 * ranges, carrier-grade NAT, link-local (where cloud metadata lives, 169.254.169.254),
 * multicast, reserved and documentation ranges are all refused. IPv6 forms that carry an IPv4
 * address (IPv4-mapped, NAT64, 6to4) are judged by that IPv4 address.
 *
 * Pure: the address is classified as written; resolving names is the caller's business.
 */
export type AddressClass = { public: true } | { public: false; range: string };

interface Range {
  bits: number;
  base: bigint;
  prefix: number;
  name: string;
}

const v4 = (cidr: string, name: string): Range => range(cidr, name, 32, ipv4ToBigInt);
const v6 = (cidr: string, name: string): Range => range(cidr, name, 128, (a) => bytesToBigInt(ipv6ToBytes(a)!));

function range(cidr: string, name: string, bits: number, parse: (a: string) => bigint | null): Range {
  const [address, prefix] = cidr.split('/') as [string, string];
  return { bits, base: parse(address)!, prefix: Number(prefix), name };
}

/** IANA IPv4 special-purpose registry, minus nothing that a portal could legitimately sit on. */
const IPV4_NON_PUBLIC: Range[] = [
  v4('0.0.0.0/8', 'unspecified ("this network")'),
  v4('10.0.0.0/8', 'private (10/8)'),
  v4('100.64.0.0/10', 'carrier-grade NAT (100.64/10)'),
  v4('127.0.0.0/8', 'loopback'),
  v4('169.254.0.0/16', 'link-local (cloud metadata)'),
  v4('172.16.0.0/12', 'private (172.16/12)'),
  v4('192.0.0.0/24', 'IETF protocol assignments'),
  v4('192.0.2.0/24', 'documentation'),
  v4('192.88.99.0/24', '6to4 relay anycast'),
  v4('192.168.0.0/16', 'private (192.168/16)'),
  v4('198.18.0.0/15', 'benchmarking'),
  v4('198.51.100.0/24', 'documentation'),
  v4('203.0.113.0/24', 'documentation'),
  v4('224.0.0.0/4', 'multicast'),
  v4('240.0.0.0/4', 'reserved (and broadcast)'),
];

/** IPv6: only global unicast (2000::/3) can be public; within it, these are not. */
const IPV6_GLOBAL_UNICAST = v6('2000::/3', 'global unicast');
const IPV6_NON_PUBLIC: Range[] = [
  v6('::/128', 'unspecified'),
  v6('::1/128', 'loopback'),
  v6('64:ff9b:1::/48', 'local-use NAT64'),
  v6('100::/64', 'discard-only'),
  v6('2001::/23', 'IETF protocol assignments (Teredo, ORCHID…)'),
  v6('2001:db8::/32', 'documentation'),
  v6('3fff::/20', 'documentation'),
  v6('fc00::/7', 'unique local (fc00::/7)'),
  v6('fe80::/10', 'link-local (fe80::/10)'),
  v6('fec0::/10', 'site-local (deprecated)'),
  v6('ff00::/8', 'multicast'),
];
const IPV4_MAPPED = v6('::ffff:0:0/96', 'IPv4-mapped');
const NAT64 = v6('64:ff9b::/96', 'NAT64');
const SIX_TO_FOUR = v6('2002::/16', '6to4');

export function classifyAddress(address: string): AddressClass {
  if (isIPv4(address)) return classifyV4(ipv4ToBigInt(address)!);
  const bytes = isIPv6(address.replace(/%.*$/, '')) ? ipv6ToBytes(address.replace(/%.*$/, '')) : null;
  if (!bytes) return { public: false, range: 'not an IP address' };
  const value = bytesToBigInt(bytes);
  // IPv6 forms carrying an IPv4 address are as public as that address.
  if (inRange(value, IPV4_MAPPED) || inRange(value, NAT64)) return classifyV4(value & 0xffffffffn);
  if (inRange(value, SIX_TO_FOUR)) return classifyV4((value >> 80n) & 0xffffffffn);
  const hit = IPV6_NON_PUBLIC.find((r) => inRange(value, r));
  if (hit) return { public: false, range: hit.name };
  if (!inRange(value, IPV6_GLOBAL_UNICAST)) return { public: false, range: 'not global unicast (outside 2000::/3)' };
  return { public: true };
}

function classifyV4(value: bigint): AddressClass {
  const hit = IPV4_NON_PUBLIC.find((r) => inRange(value, r));
  return hit ? { public: false, range: hit.name } : { public: true };
}

function inRange(value: bigint, r: Range): boolean {
  const shift = BigInt(r.bits - r.prefix);
  return value >> shift === r.base >> shift;
}

function ipv4ToBigInt(address: string): bigint | null {
  if (!isIPv4(address)) return null;
  return address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

/** Expands any IPv6 text form (`::`, embedded dotted IPv4) into 16 bytes. */
function ipv6ToBytes(address: string): number[] | null {
  if (!isIPv6(address)) return null;
  let text = address.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const n = ipv4ToBigInt(dotted[1]!);
    if (n === null) return null;
    text = `${text.slice(0, -dotted[1]!.length)}${((n >> 16n) & 0xffffn).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, null];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = tail === null ? headGroups : [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups];
  if (groups.length !== 8) return null;
  return groups.flatMap((g) => {
    const n = parseInt(g || '0', 16);
    return [(n >> 8) & 0xff, n & 0xff];
  });
}

function bytesToBigInt(bytes: number[]): bigint {
  return bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
}
