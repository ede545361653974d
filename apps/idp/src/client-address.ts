// The client address the login throttle counts (docs/decisions/0036). One client must be one
// address however it reaches us: a socket reports an IPv4 client of a dual-stack listener as
// ::ffff:a.b.c.d, proxies append the port to X-Forwarded-For (1.2.3.4:5678, [2001:db8::1]:5678),
// IPv6 is written in many equivalent ways, and anyone holding an IPv6 network (a /64 is what one
// customer or one cloud machine gets) can send from any of its 2^64 addresses. So the counted
// address is the bare IPv4 address, or the IPv6 network of the first `ipv6PrefixBits` bits in one
// canonical spelling. Anything that is not an IP address is counted as written (trimmed, lower case).
import { isIPv4, isIPv6 } from 'node:net';

/** The address without brackets, port or IPv6 zone, as written otherwise. */
function bareAddress(raw: string): string {
  let address = raw.trim().toLowerCase();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) address = bracketed[1]!;
  else if (/^[\d.]+:\d+$/.test(address)) address = address.slice(0, address.lastIndexOf(':'));
  const zone = address.indexOf('%');
  return zone === -1 ? address : address.slice(0, zone);
}

/** The eight 16-bit groups of a valid IPv6 address (a trailing dotted IPv4 part included). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => Number.parseInt(g, 16));
}

export function countedAddress(raw: string, ipv6PrefixBits: number): string {
  const address = bareAddress(raw);
  if (isIPv4(address) || !isIPv6(address)) return address;
  const groups = ipv6Groups(address);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [high, low] = [groups[6]!, groups[7]!];
    return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  }
  const network = groups.map((group, i) => {
    const kept = Math.min(16, Math.max(0, ipv6PrefixBits - i * 16));
    return (group & (0xffff << (16 - kept)) & 0xffff).toString(16);
  });
  return `${network.join(':')}/${ipv6PrefixBits}`;
}
