// IP addresses as numbers, for CIDR matching (the signal's region map) and for the key that per-address
// limits count by (RTMP connections, chat). An IPv6 client usually owns a whole /64 and can pick any address
// in it, so IPv6 addresses are keyed by their /64.
import { isIPv4, isIPv6 } from 'node:net';

function ipv4ToBigInt(ip: string): bigint {
  let n = 0n;
  for (const part of ip.split('.')) n = (n << 8n) | BigInt(Number(part));
  return n;
}

function ipv6ToBigInt(ip: string): bigint {
  // An embedded IPv4 tail (::ffff:1.2.3.4) stands for the last two groups: rewrite it as hex groups.
  const text = ip.replace(/(\d+\.\d+\.\d+\.\d+)$/, (v4) => {
    const n = Number(ipv4ToBigInt(v4));
    return `${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`;
  });
  const [head = '', rest] = text.split('::');
  const h = head ? head.split(':') : [];
  const r = rest ? rest.split(':') : [];
  const zeros = rest !== undefined ? Array<string>(8 - h.length - r.length).fill('0') : [];
  let n = 0n;
  for (const g of [...h, ...zeros, ...r]) n = (n << 16n) | BigInt(parseInt(g, 16));
  return n;
}

/** An address as (v6?, 128- or 32-bit value); IPv4-mapped IPv6 (::ffff:a.b.c.d) counts as IPv4. */
export function parseAddress(addr: string): { v6: boolean; value: bigint } | undefined {
  if (isIPv4(addr)) return { v6: false, value: ipv4ToBigInt(addr) };
  const bare = addr.replace(/%.*$/, ''); // zone index of link-local addresses
  if (!isIPv6(bare)) return undefined;
  const value = ipv6ToBigInt(bare);
  if (value >> 32n === 0xffffn) return { v6: false, value: value & 0xffffffffn };
  return { v6: true, value };
}

/** The key for per-address limits: IPv4 as is, IPv6 by its /64 prefix. */
export function limitKey(addr: string): string {
  // Dotted IPv4 as sockets report it is its own key already: skip the BigInt round trip (once per HLS request).
  if (isIPv4(addr)) return addr;
  const a = parseAddress(addr);
  if (!a) return addr;
  // IPv4 and IPv4-mapped IPv6 in one spelling, so that a dual-stack listener keys them alike.
  if (!a.v6) return [24, 16, 8, 0].map((s) => Number((a.value >> BigInt(s)) & 255n)).join('.');
  return `${(a.value >> 64n).toString(16).padStart(16, '0')}::/64`;
}
