/**
 * IP address text → bytes, for the PROXY header's address block. Strict on purpose: the
 * address comes from a header (`X-Forwarded-For`, set by the edge from CF-Connecting-IP),
 * and anything that is not exactly an IPv4 or IPv6 address is treated as "unknown"
 * rather than guessed at.
 */

export type IpAddress =
  | { readonly family: 4; readonly bytes: Uint8Array; readonly text: string }
  | { readonly family: 6; readonly bytes: Uint8Array; readonly text: string };

const IPV4_PART = /^(0|[1-9][0-9]{0,2})$/;
const IPV6_GROUP = /^[0-9a-fA-F]{1,4}$/;

export function parseIp(text: string): IpAddress | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { family: 4, bytes: v4, text };
  const v6 = parseIpv6(text);
  if (v6 !== undefined) return { family: 6, bytes: v6, text: text.toLowerCase() };
  return undefined;
}

export function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] ?? "";
    if (!IPV4_PART.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    bytes[i] = value;
  }
  return bytes;
}

/** RFC 4291 text forms, including "::" compression and a trailing dotted IPv4 part. No zone ids. */
export function parseIpv6(text: string): Uint8Array | undefined {
  if (text.length > 45 || !text.includes(":")) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = groupsOf(halves[0] ?? "");
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? "") : [];
  if (head === undefined || tail === undefined) return undefined;
  const all = [...head, ...tail];
  // A dotted IPv4 part may only be the very last thing (e.g. ::ffff:192.0.2.1).
  const groups: number[] = [];
  for (let i = 0; i < all.length; i++) {
    const group = all[i] ?? "";
    if (group.includes(".")) {
      if (i !== all.length - 1) return undefined;
      const v4 = parseIpv4(group);
      if (v4 === undefined) return undefined;
      groups.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
    } else {
      if (!IPV6_GROUP.test(group)) return undefined;
      groups.push(parseInt(group, 16));
    }
  }
  const headCount = head.reduce((n, g) => n + (g.includes(".") ? 2 : 1), 0);
  if (halves.length === 2) {
    if (groups.length > 7) return undefined;
    groups.splice(headCount, 0, ...new Array<number>(8 - groups.length).fill(0));
  } else if (groups.length !== 8) {
    return undefined;
  }
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}

function groupsOf(part: string): string[] | undefined {
  if (part === "") return [];
  const groups = part.split(":");
  return groups.some((g) => g === "") ? undefined : groups;
}
