/**
 * A flow (GET /v1/flows/{correlationid}) as the flow page draws it: each event's cause,
 * depth and timings, in append order and as a causation tree.
 */

/** What the page reads of a StoredEvent (api.ts); kept here so this module stands alone. */
export interface FlowEvent {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly topic: string;
  readonly offset: number;
  readonly appendedat: string;
  readonly causationid?: unknown;
  readonly [attribute: string]: unknown;
}

export interface FlowEdge {
  readonly from: string;
  readonly to: string;
}

export interface Flow {
  readonly events: readonly FlowEvent[];
  readonly edges: readonly FlowEdge[];
  readonly hidden: number;
  readonly truncated: boolean;
}

export interface Step {
  readonly event: FlowEvent;
  /** Its place in the answer (append order); ids may repeat, places do not. */
  readonly index: number;
  /** The place of its cause, when the cause is in the answer. */
  readonly cause: number | undefined;
  /** Append time, ms since the epoch. */
  readonly at: number;
  readonly sinceStart: number;
  /** Ms since its cause was appended; undefined for a root. */
  readonly sinceCause: number | undefined;
}

export interface TreeNode {
  readonly step: Step;
  /** How deep it really is (0: a root); it may be drawn less deep (MAX_DEPTH). */
  readonly depth: number;
  readonly children: TreeNode[];
}

/**
 * Nesting drawn at most this deep: a longer chain (a publisher may set any causationid)
 * continues flat at the last level, marked with its depth, rather than outgrow the page
 * or the renderer's stack.
 */
export const MAX_DEPTH = 12;

/**
 * An edge `from → to` names ids, and ids may repeat (one id on two topics, a republished
 * event), so an event's cause is the nearest earlier event with the id the edge names.
 * A cause must come earlier in append order — a router appends a cause before any handler
 * can publish its effect — which also keeps a made-up causationid from forming a cycle.
 */
export function stepsOf(flow: Flow): Step[] {
  const causesOf = new Map<string, Set<string>>();
  for (const { from, to } of flow.edges) {
    const causes = causesOf.get(to) ?? new Set<string>();
    causes.add(from);
    causesOf.set(to, causes);
  }
  const lastWithId = new Map<string, number>();
  const times = flow.events.map((e) => Date.parse(e.appendedat));
  const start = times[0] ?? 0;
  return flow.events.map((event, index) => {
    const named = typeof event.causationid === "string" ? event.causationid : undefined;
    const cause =
      named !== undefined && causesOf.get(event.id)?.has(named) === true
        ? lastWithId.get(named)
        : undefined;
    lastWithId.set(event.id, index);
    const at = times[index] ?? start;
    return {
      event,
      index,
      cause,
      at,
      sinceStart: at - start,
      sinceCause: cause === undefined ? undefined : at - (times[cause] ?? at),
    };
  });
}

/** The causation tree: roots and children in append order. */
export function treeOf(steps: readonly Step[]): TreeNode[] {
  const roots: TreeNode[] = [];
  const nodes: TreeNode[] = [];
  const drawnAt: TreeNode[] = [];
  for (const step of steps) {
    const parent = step.cause === undefined ? undefined : nodes[step.cause];
    const depth = parent === undefined ? 0 : parent.depth + 1;
    const node: TreeNode = { step, depth, children: [] };
    nodes.push(node);
    if (parent === undefined) {
      roots.push(node);
      drawnAt.push(node);
      continue;
    }
    // Past MAX_DEPTH a node hangs from the ancestor drawn at the last level.
    const host = depth <= MAX_DEPTH ? parent : (drawnAt[parent.step.index] ?? parent);
    host.children.push(node);
    drawnAt.push(depth < MAX_DEPTH ? node : host);
  }
  return roots;
}

/** Services (the event `source`) in order of their first event. */
export function servicesOf(steps: readonly Step[]): string[] {
  return [...new Set(steps.map((s) => s.event.source))];
}
