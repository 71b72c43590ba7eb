/**
 * Each way a token can fail, with its own status and stable code (README "Errors"):
 * clients and operators can tell a rotated-out key from a forgery from an expiry.
 */
import type { EdgeErrorCode } from "../../../protocols/errors.ts";
import type { TokenFailure } from "./verify.ts";

export const TOKEN_FAILURES: Record<TokenFailure, { status: number; code: EdgeErrorCode; message: string }> = {
  malformed: { status: 401, code: "token_malformed", message: "affinity token is malformed" },
  bad_algorithm: { status: 401, code: "token_bad_algorithm", message: "affinity token uses an algorithm its key does not allow" },
  unknown_kid: { status: 401, code: "unknown_key", message: "affinity token is signed with an unknown key; start a new session" },
  bad_signature: { status: 401, code: "token_invalid", message: "affinity token signature is invalid" },
  bad_claims: { status: 401, code: "token_bad_claims", message: "affinity token claims are invalid" },
  expired: { status: 401, code: "token_expired", message: "affinity token expired; start a new session" },
  wrong_pool: { status: 403, code: "token_wrong_pool", message: "affinity token belongs to another pool" },
  wrong_network: { status: 401, code: "token_wrong_network", message: "affinity token was issued on another network; start a new session" },
};
