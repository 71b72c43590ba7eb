/**
 * One HTTP error type for the whole edge, mapped to the JSON error shape of docs/architecture.md
 * (`{"error": "<stable_code>", "message": "<human sentence>"}`) by one `onError`.
 */

/** Stable error codes. Clients and tests match on these; never rename one casually. */
export type EdgeErrorCode =
  | "token_missing"
  | "token_invalid"
  | "token_malformed"
  | "token_bad_algorithm"
  | "token_bad_claims"
  | "token_wrong_network"
  | "unknown_key"
  | "token_expired"
  | "token_wrong_pool"
  | "no_origin_available"
  | "edge_busy"
  | "too_many_sessions"
  | "not_a_session_request"
  | "origin_unreachable"
  | "session_not_found"
  | "unknown_pool"
  | "unauthorized"
  | "forbidden"
  | "too_many_requests"
  | "origin_not_allowed"
  | "not_found"
  | "bad_request"
  | "url_too_long"
  | "headers_too_large"
  | "body_too_large"
  | "body_timeout"
  | "line_too_long"
  | "config_invalid"
  | "internal_error";

export class EdgeError extends Error {
  override readonly name = "EdgeError";
  readonly status: number;
  readonly code: EdgeErrorCode;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: EdgeErrorCode,
    message: string,
    options: { headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.status = status;
    this.code = code;
    this.headers = options.headers ?? {};
  }
}

/** Builds the JSON error response of docs/architecture.md. */
export function errorResponse(
  status: number,
  code: EdgeErrorCode,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify({ error: code, message }), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers },
  });
}

export function edgeErrorResponse(err: EdgeError): Response {
  return errorResponse(err.status, err.code, err.message, err.headers);
}
