// Control requests that manage a session's subscriptions: `add` and `delete` (and `reconf`,
// acknowledged with CONF since this origin never filters). A subscription is a list of
// items (LS_group, space separated) × a list of fields (LS_schema, space separated) of the
// DEMO adapter set; each item update becomes a U line with fields that did not change
// since the subscription's previous update for that item sent as "unchanged".

import type { DemoAdapterSet, DemoItem, ItemValues, SubscriptionMode } from "./demo-adapter-set.ts";
import { DEMO_DATA_ADAPTERS } from "./demo-adapter-set.ts";
import { endOfSnapshot, subok, UNCHANGED, unsub, update, type FieldValue } from "./encoding.ts";
import { boolParam, intParam } from "./request-params.ts";
import type { TlcpSession } from "./session.ts";

/** The outcome of one control request: REQOK, or REQERR with a TLCP error code. */
export type ControlOutcome = { ok: true } | { ok: false; code: number; message: string };

// TLCP error codes used by subscription requests.
const SYNTAX = 65;
const UNKNOWN_SUBSCRIPTION = 19;
const BAD_DATA_ADAPTER = 17;
const BAD_ITEM = 21;
const BAD_FIELD = 23;
const MODE_NOT_ALLOWED = 24;
const BAD_SELECTOR = 25;

const MODES: readonly SubscriptionMode[] = ["MERGE", "DISTINCT", "RAW", "COMMAND"];

type Subscription = {
  /** Per item: the last values sent, to mark unchanged fields. */
  last: Array<Array<string | null> | undefined>;
  unsubscribe: () => void;
};

/** Per-session subscriptions, kept beside the session (it only knows lines). */
const bySession = new WeakMap<TlcpSession, Map<number, Subscription>>();

function subscriptionsOf(session: TlcpSession): Map<number, Subscription> {
  let map = bySession.get(session);
  if (map === undefined) {
    map = new Map();
    bySession.set(session, map);
    const subscriptions = map;
    session.onDispose(() => {
      for (const subscription of subscriptions.values()) subscription.unsubscribe();
      subscriptions.clear();
    });
  }
  return map;
}

export function addSubscription(session: TlcpSession, adapters: DemoAdapterSet, params: ReadonlyMap<string, string>): ControlOutcome {
  const subIdParam = intParam(params, "LS_subId", { min: 1, max: 2 ** 31 - 1 });
  if (!subIdParam.ok) return fail(SYNTAX, subIdParam.message);
  const subId = subIdParam.value;
  if (subId === undefined) return fail(SYNTAX, "LS_subId is required");
  const mode = params.get("LS_mode");
  if (mode === undefined || !(MODES as readonly string[]).includes(mode)) {
    return fail(SYNTAX, `LS_mode must be one of ${MODES.join("|")}`);
  }
  const itemNames = words(params.get("LS_group"));
  const fieldNames = words(params.get("LS_schema"));
  if (itemNames.length === 0) return fail(SYNTAX, "LS_group is required");
  if (fieldNames.length === 0) return fail(SYNTAX, "LS_schema is required");
  const snapshot = boolParam(params, "LS_snapshot", false);
  // LS_snapshot may also be a length (DISTINCT); any number means "yes" here.
  const wantsSnapshot = snapshot.ok ? snapshot.value : /^\d+$/.test(params.get("LS_snapshot") ?? "");
  const dataAdapter = params.get("LS_data_adapter");
  if (dataAdapter !== undefined && !DEMO_DATA_ADAPTERS.includes(dataAdapter)) {
    return fail(BAD_DATA_ADAPTER, `data adapter ${dataAdapter} is not available (leave it out or use DEFAULT)`);
  }
  if ((params.get("LS_selector") ?? "") !== "") return fail(BAD_SELECTOR, "selectors are not supported");

  const items: DemoItem[] = [];
  for (const name of itemNames) {
    const item = adapters.item(name);
    if (item === undefined) return fail(BAD_ITEM, `item ${name} does not exist (try clock or chat)`);
    if (!(item.modes as readonly string[]).includes(mode)) return fail(MODE_NOT_ALLOWED, `mode ${mode} is not allowed for ${name}`);
    const unknown = fieldNames.find((field) => !item.fields.includes(field));
    if (unknown !== undefined) return fail(BAD_FIELD, `item ${name} has no field ${unknown} (fields: ${item.fields.join(" ")})`);
    items.push(item);
  }

  const subscriptions = subscriptionsOf(session);
  // A client re-sends an add whose answer it lost: acknowledge it, subscribe once.
  if (subscriptions.has(subId)) return { ok: true };

  const subscription: Subscription = { last: items.map(() => undefined), unsubscribe: () => {} };
  subscriptions.set(subId, subscription);
  session.enqueue(subok(subId, items.length, fieldNames.length));

  const send = (index: number, values: ItemValues): void => {
    const current = fieldNames.map((field) => values.get(field) ?? null);
    const previous = subscription.last[index];
    subscription.last[index] = current;
    const encoded: FieldValue[] = current.map((value, i) => (previous !== undefined && previous[i] === value ? UNCHANGED : value));
    session.enqueue(update(subId, index + 1, encoded));
  };

  const unsubscribers = items.map((item, index) => {
    if (wantsSnapshot && mode !== "RAW") {
      const state = mode === "MERGE" ? item.snapshot() : undefined;
      if (state !== undefined) send(index, state);
      // DISTINCT snapshots are (here, always empty) histories; the client waits for EOS.
      if (mode === "DISTINCT") session.enqueue(endOfSnapshot(subId, index + 1));
    }
    return item.subscribe((values) => send(index, values));
  });
  subscription.unsubscribe = () => {
    for (const unsubscribe of unsubscribers) unsubscribe();
  };
  return { ok: true };
}

export function deleteSubscription(session: TlcpSession, params: ReadonlyMap<string, string>): ControlOutcome {
  const subId = intParam(params, "LS_subId", { min: 1 });
  if (!subId.ok) return fail(SYNTAX, subId.message);
  if (subId.value === undefined) return fail(SYNTAX, "LS_subId is required");
  const subscriptions = subscriptionsOf(session);
  const subscription = subscriptions.get(subId.value);
  if (subscription === undefined) return fail(UNKNOWN_SUBSCRIPTION, `subscription ${subId.value} does not exist`);
  subscription.unsubscribe();
  subscriptions.delete(subId.value);
  session.enqueue(unsub(subId.value));
  return { ok: true };
}

/** Frequency changes: nothing is filtered here, so the answer is always "unlimited". */
export function reconfigureSubscription(session: TlcpSession, params: ReadonlyMap<string, string>): ControlOutcome {
  const subId = intParam(params, "LS_subId", { min: 1 });
  if (!subId.ok) return fail(SYNTAX, subId.message);
  if (subId.value === undefined) return fail(SYNTAX, "LS_subId is required");
  if (!subscriptionsOf(session).has(subId.value)) return fail(UNKNOWN_SUBSCRIPTION, `subscription ${subId.value} does not exist`);
  session.enqueue(`CONF,${subId.value},unlimited,filtered`);
  return { ok: true };
}

function words(text: string | undefined): string[] {
  return (text ?? "").split(" ").filter((word) => word !== "");
}

function fail(code: number, message: string): ControlOutcome {
  return { ok: false, code, message };
}
