// Command-line flags → OriginOptions. Every error names the flag it is about, so a typo
// in a process manager's unit file is found from the first line of stderr.

import { readFileSync } from "node:fs";
import { splitAddressList } from "./address-match.ts";
import { parseProxyAuthKeys } from "./proxy-auth.ts";
import {
  isOneOf,
  LISTENER_KINDS,
  OptionError,
  ORIGIN_STATES,
  PROXY_AUTH_MODES,
  PROXY_MODES,
  UNTRUSTED_POLICIES,
  type ListenerOptions,
  type OriginOptions,
} from "./options.ts";

export const USAGE = `usage: node infra/origin/main.ts --id ID --listen KIND=HOST:PORT[,OPTION=VALUE...] [flags]

  --id ID                       origin id (X-Origin-Id, payloads, logs)
  --listen KIND=HOST:PORT       repeatable; KIND is combined|create|control|admin; PORT 0 = ephemeral;
                                admin serves only /health, /admin/state and /_debug/requests
                                (never reachable on the other kinds: keep it off public networks);
                                IPv6 as [::1]:9001. Per-listener options after commas:
                                proxy=MODE, proxy-trusted=A|B, proxy-untrusted=POLICY,
                                proxy-timeout-ms=N, proxy-max-header-bytes=N, proxy-auth=require|off
  --proxy require|accept|refuse PROXY protocol header policy (default accept)
  --proxy-trusted LIST          comma list of IPs/CIDRs whose PROXY header is honoured
                                (default 127.0.0.1,::1; "" = nobody)
  --proxy-untrusted reject|ignore   header from an untrusted source (default reject)
  --proxy-timeout-ms N          time allowed for the PROXY header / first bytes (default 3000)
  --proxy-max-header-bytes N    largest PROXY v2 header accepted, TLVs included (default 2048,
                                108-65551); v1 headers are 107 bytes at most by the spec
  --proxy-auth-keys-file FILE   JSON {"kid": "base64url key"} (the edge's PROXY_AUTH_KEYS): PROXY
                                headers naming a client must then carry push-edge's auth TLV
                                (0xE0, HMAC-SHA256), on every listener without proxy-auth=off
  --proxy-auth-max-skew-ms N    accepted distance of the TLV's issued-at from now (default 60000)
  --forwarded-trusted LIST      peers whose Forwarded / X-Forwarded-For is believed
                                (default 127.0.0.1,::1)
  --interval-ms N               default tick period, 0 = none (default 1000)
  --keepalive-ms N              SSE keep-alive comment after N ms of silence (default 15000)
  --ping-interval-ms N          WebSocket ping period (default 15000)
  --session-idle-ms N           forget sessions unattended this long (default 60000)
  --capacity N                  sessions accepted before 503 origin_full (default 1000)
  --state active|draining|blocked   initial state (default active)
  --request-log-size N          entries kept for /_debug/requests (default 1000)
  --tlcp-clock-ms N             TLCP DEMO clock item update period (default 100)
  --tlcp-keepalive-ms N         TLCP keep-alive announced in CONOK unless the client asks
                                (default 5000, min 100); PROBE is sent sooner
  --tlcp-session-expiry-ms N    forget a TLCP session unbound this long (default 30000)
  --jwks-url URL                the edge's JWKS (https://EDGE/_edge/.well-known/jwks.json): CR
                                requests must then carry a valid X-Push-Edge-Token naming this
                                origin, else 403 (needs ES256/EdDSA keys on the edge)
  --help                        this text`;

export type CliResult = { kind: "run"; options: OriginOptions } | { kind: "help" };

type Mutable = {
  -readonly [K in keyof OriginOptions]?: OriginOptions[K];
};

const NUMERIC_FLAGS = {
  "--proxy-timeout-ms": "proxyTimeoutMs",
  "--proxy-max-header-bytes": "proxyMaxHeaderBytes",
  "--proxy-auth-max-skew-ms": "proxyAuthMaxSkewMs",
  "--interval-ms": "intervalMs",
  "--keepalive-ms": "keepAliveMs",
  "--ping-interval-ms": "pingIntervalMs",
  "--session-idle-ms": "sessionIdleMs",
  "--capacity": "capacity",
  "--request-log-size": "requestLogSize",
  "--tlcp-clock-ms": "tlcpClockMs",
  "--tlcp-keepalive-ms": "tlcpKeepAliveMs",
  "--tlcp-session-expiry-ms": "tlcpSessionExpiryMs",
} as const;

/** Throws OptionError whose field is the flag name. Accepts "--flag value" and "--flag=value". */
export function parseCliArgs(argv: readonly string[]): CliResult {
  const options: Mutable = {};
  const listeners: ListenerOptions[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--help" || arg === "-h") return { kind: "help" };
    if (!arg.startsWith("--")) throw new OptionError(arg, "unexpected argument (flags start with --)");
    const eq = arg.indexOf("=");
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    let value: string;
    if (eq !== -1) {
      value = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined) throw new OptionError(flag, "needs a value");
      value = next;
      i++;
    }
    if (flag in NUMERIC_FLAGS) {
      options[NUMERIC_FLAGS[flag as keyof typeof NUMERIC_FLAGS]] = integer(flag, value);
      continue;
    }
    switch (flag) {
      case "--id":
        options.id = value;
        break;
      case "--listen":
        listeners.push(parseListen(value));
        break;
      case "--proxy":
        options.proxy = choice(flag, value, PROXY_MODES);
        break;
      case "--proxy-trusted":
        options.proxyTrusted = splitAddressList(value);
        break;
      case "--proxy-untrusted":
        options.proxyUntrusted = choice(flag, value, UNTRUSTED_POLICIES);
        break;
      case "--proxy-auth-keys-file":
        options.proxyAuthKeys = readKeyFile(flag, value);
        break;
      case "--forwarded-trusted":
        options.forwardedTrusted = splitAddressList(value);
        break;
      case "--state":
        options.state = choice(flag, value, ORIGIN_STATES);
        break;
      case "--jwks-url":
        options.jwksUrl = value;
        break;
      default:
        throw new OptionError(flag, "unknown flag (see --help)");
    }
  }
  if (options.id === undefined) throw new OptionError("--id", "is required");
  if (listeners.length === 0) throw new OptionError("--listen", "at least one is required");
  return { kind: "run", options: { ...options, id: options.id, listeners } };
}

/** "combined=127.0.0.1:9001,proxy=require,proxy-trusted=10.0.0.1|10.0.0.2" */
export function parseListen(value: string): ListenerOptions {
  const [main = "", ...extras] = value.split(",");
  const match = /^([a-z]+)=(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(main);
  if (match === null) throw new OptionError("--listen", `expected KIND=HOST:PORT, got ${JSON.stringify(value)}`);
  const [, kindText = "", hostText = "", portText = ""] = match;
  const kind = choice("--listen", kindText, LISTENER_KINDS);
  const port = Number(portText);
  if (port > 65535) throw new OptionError("--listen", `port ${port} is out of range`);
  const listener: ListenerOptions = {
    kind,
    host: hostText.startsWith("[") ? hostText.slice(1, -1) : hostText,
    port,
  };
  for (const extra of extras) {
    const eq = extra.indexOf("=");
    const key = eq === -1 ? extra : extra.slice(0, eq);
    const option = eq === -1 ? "" : extra.slice(eq + 1);
    const field = `--listen ${kind} ${key}`;
    switch (key) {
      case "proxy":
        listener.proxy = choice(field, option, PROXY_MODES);
        break;
      case "proxy-trusted":
        listener.proxyTrusted = splitAddressList(option);
        break;
      case "proxy-untrusted":
        listener.proxyUntrusted = choice(field, option, UNTRUSTED_POLICIES);
        break;
      case "proxy-timeout-ms":
        listener.proxyTimeoutMs = integer(field, option);
        break;
      case "proxy-max-header-bytes":
        listener.proxyMaxHeaderBytes = integer(field, option);
        break;
      case "proxy-auth":
        listener.proxyAuth = choice(field, option, PROXY_AUTH_MODES);
        break;
      default:
        throw new OptionError("--listen", `unknown listener option ${JSON.stringify(key)}`);
    }
  }
  return listener;
}

function readKeyFile(flag: string, path: string): Map<string, Buffer> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new OptionError(flag, `cannot read ${JSON.stringify(path)}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    return parseProxyAuthKeys(text);
  } catch (error) {
    throw new OptionError(flag, error instanceof Error ? error.message : String(error));
  }
}

function integer(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new OptionError(flag, `expected a non-negative integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

function choice<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (isOneOf(value, allowed)) return value;
  throw new OptionError(flag, `must be one of ${allowed.join("|")}, got ${JSON.stringify(value)}`);
}

const FIELD_FLAGS: Record<string, string> = {
  id: "--id",
  listeners: "--listen",
  proxy: "--proxy",
  proxyTrusted: "--proxy-trusted",
  proxyUntrusted: "--proxy-untrusted",
  proxyAuthKeys: "--proxy-auth-keys-file",
  forwardedTrusted: "--forwarded-trusted",
  state: "--state",
  jwksUrl: "--jwks-url",
  ...Object.fromEntries(Object.entries(NUMERIC_FLAGS).map(([flag, field]) => [field, flag])),
};

/** Maps an OptionError field from resolveOriginOptions ("intervalMs", "listeners[1].port")
 * back to the flag a CLI user typed. */
export function flagForField(field: string): string {
  if (field.startsWith("--")) return field;
  const base = /^[A-Za-z]+/.exec(field)?.[0] ?? field;
  return FIELD_FLAGS[base] ?? field;
}
