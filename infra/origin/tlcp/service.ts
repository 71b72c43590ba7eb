// The origin's TLCP state: its sessions (by id) and the DEMO adapter set they subscribe
// to. Sessions live in the origin's SessionStore too, tagged "tlcp", so /health counts
// them, capacity applies to them, expiry and shutdown reach them the same way.

import type { ResolvedOptions } from "../options.ts";
import type { SessionStore } from "../sessions.ts";
import { createDemoAdapterSet, type DemoAdapterSet } from "./demo-adapter-set.ts";
import { TlcpSession } from "./session.ts";

/** Announced in CONOK: the longest request body a client should send. */
export const REQUEST_LIMIT = 50_000;

export type TlcpService = {
  readonly adapterSet: DemoAdapterSet;
  readonly options: Pick<ResolvedOptions, "tlcpKeepAliveMs" | "tlcpSessionExpiryMs">;
  create(client: string): TlcpSession;
  /** Undefined for unknown, ended and non-TLCP sessions. */
  get(id: string): TlcpSession | undefined;
  close(): void;
};

export function createTlcpService(originId: string, options: ResolvedOptions, store: SessionStore): TlcpService {
  const sessions = new Map<string, TlcpSession>();
  const adapterSet = createDemoAdapterSet(originId, options.tlcpClockMs);

  store.onSessionEnd(function forgetTlcpSession(base) {
    const session = sessions.get(base.id);
    if (session === undefined) return;
    sessions.delete(base.id);
    session.dispose();
  });

  return {
    adapterSet,
    options,
    create(client) {
      const base = store.create(client, { protocol: "tlcp", idleMs: options.tlcpSessionExpiryMs });
      const session = new TlcpSession(base, store);
      sessions.set(session.id, session);
      return session;
    },
    get(id) {
      const session = sessions.get(id);
      return session === undefined || session.ended ? undefined : session;
    },
    close() {
      adapterSet.close();
    },
  };
}
