// The one adapter set this origin serves over TLCP, `DEMO`, with its default data adapter
// and two items, shared by every TLCP session of the origin:
//
//   clock  fields seq ts origin   one update every --tlcp-clock-ms (100 ms). `seq` counts the
//                                 item's updates (per item, so every subscriber sees the same
//                                 numbers, consecutive for as long as it stays subscribed);
//                                 `ts` is the origin's wall clock in ms; `origin` its id.
//                                 The timer runs only while someone is subscribed.
//   chat   fields message origin ts
//                                 one update per message a client sends (msg.txt /
//                                 sendMessage), to every subscriber on this origin.
//
// A MERGE snapshot of `clock` is its latest update; `chat` keeps no snapshot.

export type SubscriptionMode = "MERGE" | "DISTINCT" | "RAW" | "COMMAND";
export type ItemValues = ReadonlyMap<string, string | null>;
export type ItemListener = (values: ItemValues) => void;

export type DemoItem = {
  readonly name: string;
  readonly fields: readonly string[];
  readonly modes: readonly SubscriptionMode[];
  /** The state a MERGE snapshot starts from, if the item has one yet. */
  snapshot(): ItemValues | undefined;
  /** Listeners are called synchronously, in subscription order. Returns the unsubscribe. */
  subscribe(listener: ItemListener): () => void;
};

export const DEMO_ADAPTER_SET = "DEMO";
/** What clients may name as LS_data_adapter (or leave out). */
export const DEMO_DATA_ADAPTERS: readonly string[] = ["DEFAULT"];

const NON_COMMAND: readonly SubscriptionMode[] = ["MERGE", "DISTINCT", "RAW"];

export type DemoAdapterSet = {
  item(name: string): DemoItem | undefined;
  /** Publishes a client message on the `chat` item; returns how many subscriptions got it. */
  chat(message: string): number;
  /** Stops the clock timer for good (origin shutdown). */
  close(): void;
};

export function createDemoAdapterSet(originId: string, clockMs: number): DemoAdapterSet {
  const clock = createClockItem(originId, clockMs);
  const chatListeners = new Set<ItemListener>();
  const chat: DemoItem = {
    name: "chat",
    fields: ["message", "origin", "ts"],
    modes: NON_COMMAND,
    snapshot: () => undefined,
    subscribe: (listener) => subscribeTo(chatListeners, listener, () => {}),
  };
  const items = new Map<string, DemoItem>([
    [clock.item.name, clock.item],
    [chat.name, chat],
  ]);
  return {
    item: (name) => items.get(name),
    chat(message) {
      const values: ItemValues = new Map([
        ["message", message],
        ["origin", originId],
        ["ts", String(Date.now())],
      ]);
      const listeners = [...chatListeners];
      for (const listener of listeners) listener(values);
      return listeners.length;
    },
    close: () => clock.close(),
  };
}

function createClockItem(originId: string, clockMs: number): { item: DemoItem; close(): void } {
  const listeners = new Set<ItemListener>();
  let seq = 0;
  let latest: ItemValues | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const tick = (): void => {
    seq += 1;
    latest = new Map([
      ["seq", String(seq)],
      ["ts", String(Date.now())],
      ["origin", originId],
    ]);
    const values = latest;
    // Copy: a listener may unsubscribe (its session ends) while we iterate.
    for (const listener of [...listeners]) listener(values);
  };

  const item: DemoItem = {
    name: "clock",
    fields: ["seq", "ts", "origin"],
    modes: NON_COMMAND,
    snapshot: () => latest,
    subscribe(listener) {
      if (timer === undefined && !closed) {
        timer = setInterval(tick, clockMs);
        // A forgotten subscription must not keep a process (or a test runner) alive.
        timer.unref();
      }
      return subscribeTo(listeners, listener, () => {
        if (listeners.size > 0) return;
        clearInterval(timer);
        timer = undefined;
      });
    },
  };
  return {
    item,
    close() {
      closed = true;
      clearInterval(timer);
      timer = undefined;
      listeners.clear();
    },
  };
}

function subscribeTo(listeners: Set<ItemListener>, listener: ItemListener, onRemoved: () => void): () => void {
  // Wrap so that the same function subscribed twice is two subscriptions.
  const entry: ItemListener = (values) => listener(values);
  listeners.add(entry);
  return () => {
    if (listeners.delete(entry)) onRemoved();
  };
}
