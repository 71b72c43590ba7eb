/**
 * What the session object answers itself, in the request's protocol, when the origin's
 * answer is not the one to give: the session is gone (404), a create came twice (409), the
 * origin cannot be reached (502). `FAILURE_HEADER` tells the edge it was the object.
 */
import { adapterNamed } from "../../protocols/registry.ts";
import { genericAdapter } from "../../protocols/generic.ts";
import type { ProtocolAdapter } from "../../protocols/adapter.ts";
import { FAILURE_HEADER } from "./route.ts";
import type { SessionRecord } from "./store.ts";

/** The session is gone (never existed, ended, forgotten): the edge says so in the request's words. */
export function sessionGone(record: SessionRecord | undefined): Response {
  const adapter = adapterNamed(record?.adapter ?? "") ?? genericAdapter;
  return adapter.failure(404, "session_not_found", "this session no longer exists; start a new one", {
    [FAILURE_HEADER]: "session_not_found",
  });
}

/** Session keys are 128 random bits: a second create of one means a replayed internal request. */
export function duplicateCreate(adapter: ProtocolAdapter): Response {
  return adapter.failure(409, "bad_request", "session already exists");
}

/** The client is not told which origin (F14): the object's event log and the logs say it. */
export function originUnreachable(adapter: ProtocolAdapter): Response {
  return adapter.failure(502, "origin_unreachable", "the session's origin cannot be reached", {
    [FAILURE_HEADER]: "origin_unreachable",
  });
}

/** The origin's answer to a create that is refused after all: its relay, if any, ends. */
export async function discardAnswer(response: Response): Promise<void> {
  const socket = response.webSocket;
  if (socket === null) return response.body?.cancel();
  try {
    socket.accept();
    socket.close(1011, "session already exists");
  } catch {
    // Already closed.
  }
}
