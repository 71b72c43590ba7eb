/**
 * Builds the edge bundle once (`wrangler deploy --dry-run`) for every integration file;
 * each file then starts its own stack from it.
 */
import { buildEdge } from "../../infra/local/edge.ts";

export default async function setup(): Promise<void> {
  await buildEdge();
}
