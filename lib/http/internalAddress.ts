import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** Why an address is not a public one, as a caller reads it: 'loopback', 'private', 'instance metadata'… */
export type InternalKind = string;

type Range = readonly [address: string, prefix: number, kind: InternalKind];

/**
 * IANA's special-purpose IPv4 ranges (RFC 6890 and updates): none is where a public file lives. Node matches
 * IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) against these as well.
 */
const IPV4: readonly Range[] = [
  ['169.254.169.254', 32, 'instance metadata'],
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared (CGNAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

/**
 * IPv6 outside global unicast (2000::/3) is never public; inside it, the ranges that are not routed on the
 * internet or that tunnel to an IPv4 address of anyone's choosing (Teredo, 6to4).
 */
const IPV6: readonly Range[] = [
  ['fd00:ec2::254', 128, 'instance metadata'],
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['64:ff9b::', 96, 'NAT64'],
  ['64:ff9b:1::', 48, 'NAT64'],
  ['fc00::', 7, 'unique-local'],
  ['fe80::', 10, 'link-local'],
  ['ff00::', 8, 'multicast'],
  ['2001::', 23, 'reserved'],
  ['2001:db8::', 32, 'documentation'],
  ['2002::', 16, 'reserved'],
  ['3fff::', 20, 'documentation'],
];

const rules = (ranges: readonly Range[], family: 'ipv4' | 'ipv6') =>
  ranges.map(([address, prefix, kind]) => {
    const list = new BlockList();
    list.addSubnet(address, prefix, family);
    return { list, kind };
  });
const IPV4_RULES = rules(IPV4, 'ipv4');
const IPV6_RULES = rules(IPV6, 'ipv6');
const GLOBAL_UNICAST = new BlockList();
GLOBAL_UNICAST.addSubnet('2000::', 3, 'ipv6');

/** The kind of internal address `address` is, or undefined when it is a public one. */
export function internalKind(address: string): InternalKind | undefined {
  if (isIPv4(address)) return IPV4_RULES.find(({ list }) => list.check(address, 'ipv4'))?.kind;
  if (!isIPv6(address)) return 'not an IP address';
  const kind = [...IPV4_RULES, ...IPV6_RULES].find(({ list }) => list.check(address, 'ipv6'))?.kind;
  return kind ?? (GLOBAL_UNICAST.check(address, 'ipv6') ? undefined : 'reserved');
}
