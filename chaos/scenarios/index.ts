/** Every chaos scenario, in the order `npm run chaos` runs them. */
import type { Scenario } from "../scenario.ts";
import { dropConnections } from "./drop-connections.ts";
import { killOrigin } from "./kill-origin.ts";
import { restartEdge } from "./restart-edge.ts";
import { sFlood } from "./s-flood.ts";
import { slowOrigin } from "./slow-origin.ts";
import { stallOrigin } from "./stall-origin.ts";

export const SCENARIOS: readonly Scenario[] = [killOrigin, restartEdge, stallOrigin, slowOrigin, dropConnections, sFlood];
