/**
 * The flow page's model (dashboard/src/flow.ts) on answers a router could give but the
 * Chromium tests do not build: repeated ids, a causationid naming a later event (which a
 * publisher may set), and chains deeper than the page nests.
 */
import { describe, expect, it } from "vitest";
import {
  type Flow,
  type FlowEvent,
  MAX_DEPTH,
  stepsOf,
  type TreeNode,
  treeOf,
} from "../../dashboard/src/flow.ts";

const T0 = Date.parse("2026-12-06T20:00:00.000Z");

function event(id: string, atMs: number, causationid?: string, topic = "orders"): FlowEvent {
  return {
    id,
    source: "/test",
    type: "t",
    specversion: "1.0",
    topic,
    offset: 1,
    appendedat: new Date(T0 + atMs).toISOString(),
    correlationid: "c",
    ...(causationid === undefined ? {} : { causationid }),
  };
}

/** The answer as the router builds it: an edge for each causationid naming an event in it. */
function flow(events: FlowEvent[]): Flow {
  const ids = new Set(events.map((e) => e.id));
  const edges = events.flatMap((e) =>
    typeof e.causationid === "string" && ids.has(e.causationid)
      ? [{ from: e.causationid, to: e.id }]
      : [],
  );
  return { events, edges, hidden: 0, truncated: false };
}

const shape = (nodes: readonly TreeNode[]): unknown[] =>
  nodes.map((n) => [n.step.event.id, ...(n.children.length ? [shape(n.children)] : [])]);

describe("the flow page's model", () => {
  it("times each step since its cause and since the first event", () => {
    const steps = stepsOf(
      flow([event("a", 0), event("b", 30, "a"), event("c", 70, "b"), event("d", 100, "a")]),
    );
    expect(steps.map((s) => [s.event.id, s.cause, s.sinceCause, s.sinceStart])).toEqual([
      ["a", undefined, undefined, 0],
      ["b", 0, 30, 30],
      ["c", 1, 40, 70],
      ["d", 0, 100, 100],
    ]);
    expect(shape(treeOf(steps))).toEqual([["a", [["b", [["c"]]], ["d"]]]]);
  });

  it("takes the nearest earlier event of a repeated id as the cause, never a later one", () => {
    // "x" on two topics; "y" names "x"; "late" names "z", which comes after it.
    const steps = stepsOf(
      flow([
        event("x", 0),
        event("late", 5, "z"),
        event("x", 10, undefined, "payments"),
        event("y", 20, "x"),
        event("z", 30, "late"),
      ]),
    );
    expect(steps.map((s) => s.cause)).toEqual([undefined, undefined, undefined, 2, 1]);
    expect(shape(treeOf(steps))).toEqual([["x"], ["late", [["z"]]], ["x", [["y"]]]]);
  });

  it("makes a root of an event whose cause the answer has no edge to (hidden, say)", () => {
    const answer = flow([event("a", 0), event("b", 10, "a")]);
    const steps = stepsOf({ ...answer, edges: [] });
    expect(steps.map((s) => s.cause)).toEqual([undefined, undefined]);
  });

  it("nests a long chain MAX_DEPTH deep and continues it flat at that level", () => {
    const chain = Array.from({ length: MAX_DEPTH + 5 }, (_, i) =>
      event(`e${i}`, i, i === 0 ? undefined : `e${i - 1}`),
    );
    let level = treeOf(stepsOf(flow(chain)));
    for (let depth = 0; depth < MAX_DEPTH; depth++) {
      expect(level).toHaveLength(1);
      level = level[0]?.children ?? [];
    }
    // The node at MAX_DEPTH and all deeper ones share the last level, in append order.
    expect(level.map((n) => [n.step.event.id, n.depth])).toEqual(
      chain.slice(MAX_DEPTH).map((e, i) => [e.id, MAX_DEPTH + i]),
    );
    expect(level.every((n) => n.children.length === 0)).toBe(true);
  });
});
