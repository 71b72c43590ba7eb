/**
 * Development-only secrets for the local stack. They are printed at start and must never
 * be used in production: there, `wrangler secret put AFFINITY_KEYS` / `ADMIN_TOKEN`.
 */
export const DEV_SIGNING_KID = "dev-1";
export const DEV_AFFINITY_KEYS = JSON.stringify({ [DEV_SIGNING_KID]: "ZGV2LW9ubHkta2V5LWRvLW5vdC11c2UtaW4tcHJvZHVjdGlvbg" });
export const DEV_ADMIN_TOKEN = "dev-admin-token-local";
