/** Entry point of the edge Worker: the Hono app, and the Durable Object classes it binds. */
import { createApp } from "./app.ts";

export { PoolCoordinator } from "../../durable-objects/pool/coordinator.ts";
export { OriginSessions } from "../../durable-objects/registry/origin-sessions.ts";
export { IsolateHub } from "../../durable-objects/hub/isolate-hub.ts";
export { SessionObject } from "../../durable-objects/session/session-object.ts";

export default createApp();
