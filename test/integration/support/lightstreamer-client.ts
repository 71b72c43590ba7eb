// The real Lightstreamer Node.js client (lightstreamer-client-node 9.x), wrapped so a test
// can wait, with a bound, for a connection status, a subscription's next update, or a
// message's outcome, and always gets the client disconnected afterwards.

import { LightstreamerClient, Subscription, type ItemUpdate } from "lightstreamer-client-node";
import { WAIT_MS, withTimeout } from "./wait.ts";

export type Transport = "WS-STREAMING" | "WS-POLLING" | "HTTP-STREAMING" | "HTTP-POLLING" | "auto";

export type Update = { item: string; isSnapshot: boolean; values: Record<string, string | null> };

export type ClientSubscription = {
  subscription: Subscription;
  /** The next update, in arrival order. */
  next(what: string, ms?: number): Promise<Update>;
  /** Resolves once the server confirmed the subscription (SUBOK). */
  subscribed(): Promise<void>;
};

export type TestClient = {
  client: LightstreamerClient;
  statuses: string[];
  serverErrors: Array<{ code: number; message: string }>;
  /** Resolves with the first status (so far or to come) that starts with `prefix`. */
  status(prefix: string, ms?: number): Promise<string>;
  subscribe(mode: string, items: string[], fields: string[], snapshot?: "yes" | "no"): ClientSubscription;
  /** sendMessage with a listener; resolves "processed" (MSGDONE) or names the failure. */
  send(message: string): Promise<string>;
  /** disconnect() and wait for DISCONNECTED. Idempotent. */
  close(): Promise<void>;
};

export function connectClient(serverUrl: string, transport: Transport, configure?: (client: LightstreamerClient) => void): TestClient {
  const client = new LightstreamerClient(serverUrl, "DEMO");
  if (transport !== "auto") client.connectionOptions.setForcedTransport(transport);
  // The library's own retryDelay (4 s) is kept on purpose: it is also how long the client
  // waits for a new stream's first bytes before it decides a proxy buffers streams, turns
  // streaming off and — with a forced streaming transport — gives up for good ("Selected
  // transport HTTP-STREAMING is not available"). At 500 ms, a busy 2-core CI machine made
  // that verdict now and then; real clients never run with less than the default.
  configure?.(client);
  const statuses: string[] = [];
  const serverErrors: Array<{ code: number; message: string }> = [];
  const statusWaiters: Array<() => void> = [];
  client.addListener({
    onStatusChange(status) {
      statuses.push(status);
      for (const waiter of statusWaiters.splice(0)) waiter();
    },
    onServerError(code, message) {
      serverErrors.push({ code, message });
    },
  });
  client.connect();

  const status = (prefix: string, ms = WAIT_MS): Promise<string> =>
    withTimeout(
      (async () => {
        for (;;) {
          const found = statuses.find((item) => item.startsWith(prefix));
          if (found !== undefined) return found;
          await new Promise<void>((resolve) => statusWaiters.push(resolve));
        }
      })(),
      ms,
      () => `client status ${prefix} (seen: ${statuses.join(", ")}; server errors: ${JSON.stringify(serverErrors)})`,
    );

  let closing: Promise<void> | undefined;
  return {
    client,
    statuses,
    serverErrors,
    status,
    subscribe(mode, items, fields, snapshot) {
      const subscription = new Subscription(mode, items, fields);
      if (snapshot !== undefined) subscription.setRequestedSnapshot(snapshot);
      const updates: Update[] = [];
      const waiters: Array<() => void> = [];
      let confirmed = false;
      let failure: string | undefined;
      const wake = (): void => {
        for (const waiter of waiters.splice(0)) waiter();
      };
      subscription.addListener({
        onItemUpdate(update: ItemUpdate) {
          const values: Record<string, string | null> = {};
          for (const field of fields) values[field] = update.getValue(field);
          updates.push({ item: update.getItemName(), isSnapshot: update.isSnapshot(), values });
          wake();
        },
        onSubscription() {
          confirmed = true;
          wake();
        },
        onSubscriptionError(code, message) {
          failure = `subscription error ${code}: ${message}`;
          wake();
        },
      });
      client.subscribe(subscription);
      const waitFor = <T>(take: () => T | undefined, what: string, ms = WAIT_MS): Promise<T> =>
        withTimeout(
          (async () => {
            for (;;) {
              const value = take();
              if (value !== undefined) return value;
              if (failure !== undefined) throw new Error(`${what}: ${failure}`);
              await new Promise<void>((resolve) => waiters.push(resolve));
            }
          })(),
          ms,
          () => `${what} (client statuses: ${statuses.join(" → ")}; server errors: ${JSON.stringify(serverErrors)})`,
        );
      return {
        subscription,
        next: (what, ms) => waitFor(() => updates.shift(), what, ms),
        subscribed: () => waitFor(() => (confirmed ? true : undefined), `subscription to ${items.join(" ")}`).then(() => {}),
      };
    },
    send(message) {
      return withTimeout(
        new Promise<string>((resolve) => {
          client.sendMessage(message, undefined, -1, {
            onProcessed: () => resolve("processed"),
            onError: () => resolve("error"),
            onDeny: (_original, code, text) => resolve(`denied ${code}: ${text}`),
            onDiscarded: () => resolve("discarded"),
            onAbort: () => resolve("aborted"),
          });
        }),
        WAIT_MS,
        `the outcome of message ${JSON.stringify(message)}`,
      );
    },
    close() {
      closing ??= (async () => {
        const alreadyDown = client.getStatus() === "DISCONNECTED";
        client.disconnect();
        if (alreadyDown) return;
        // getStatus() changes at once; listeners hear of it a little later. Wait for them.
        await withTimeout(
          (async () => {
            while (statuses.at(-1) !== "DISCONNECTED") await new Promise<void>((resolve) => statusWaiters.push(resolve));
          })(),
          WAIT_MS,
          "client DISCONNECTED",
        );
      })();
      return closing;
    },
  };
}
