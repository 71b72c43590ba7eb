/**
 * The edge's secrets (`wrangler secret put NAME --env <env>`), as the deploy check and
 * infra/deploy/secrets.md list them. Never in wrangler.toml: [vars] are stored in plain
 * text with the Worker's settings and show in the dashboard.
 */
export interface SecretSpec {
  readonly name: string;
  /** Without it the edge cannot serve (the check fails); optional ones only warn. */
  readonly required: boolean;
  readonly what: string;
}

export const SECRETS: readonly SecretSpec[] = [
  { name: "AFFINITY_KEYS", required: true, what: "the affinity-token key ring, JSON {kid: base64url secret >= 32 bytes}" },
  { name: "ADMIN_TOKEN", required: false, what: "bearer token of /_edge/admin/ and the push-edge CLI, named \"admin\" in the audit log" },
  { name: "ADMIN_TOKENS", required: false, what: "more admin tokens, one per operator or tool, JSON {name: token}; with neither, the admin API is disabled" },
  { name: "PROXY_AUTH_KEYS", required: false, what: "keys signing PROXY v2 headers for tcp origins with proxy.authKid, JSON {kid: base64url secret}" },
];

/** Shorter admin tokens are refused by the check outside dev: they can be guessed. */
export const MIN_ADMIN_TOKEN_LENGTH = 32;
