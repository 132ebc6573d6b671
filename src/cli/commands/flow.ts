import type { Command } from "commander";
import type { Flow, StoredEvent } from "../../client/index.js";
import { addConnectionOptions, type ConnectionFlags, withClient } from "../connect.js";
import { formatDuration, formatTime } from "../output.js";
import { parseInteger } from "../parse.js";

interface FlowFlags extends ConnectionFlags {
  readonly limit: string;
  readonly json?: boolean;
}

/** `switchyard flow <correlationid>`: one flow as a causation tree with per-step timings. */
export function registerFlow(program: Command): void {
  addConnectionOptions(
    program
      .command("flow <correlationid>")
      .description(
        "show the events of one correlation id (topics indexed by correlationid) as a causation tree",
      )
      .option("--limit <n>", "at most this many events (at most 10000)", "1000")
      .option("--json", "print the router's answer as JSON"),
  ).action(async (id: string, flags: FlowFlags) => {
    const limit = parseInteger(flags.limit, "--limit", 1, 10_000);
    const flow = await withClient(flags, (c) => c.admin.flow(id, { limit }));
    process.stdout.write(
      flags.json === true ? `${JSON.stringify(flow)}\n` : renderFlow(id, flow, limit),
    );
  });
}

interface Node {
  readonly event: StoredEvent;
  readonly children: Node[];
  parent: Node | null;
}

const at = (event: StoredEvent): number => Date.parse(event.appendedat);

function line(node: Node, previous: StoredEvent | null): string {
  const e = node.event;
  const since = node.parent?.event ?? previous;
  const timing =
    since === null
      ? formatTime(e.appendedat)
      : `+${formatDuration(Math.max(0, at(e) - at(since)))}${node.parent === null ? " after the previous root" : ""}`;
  return `${e.type} ${e.id} (${e.topic}#${e.offset})  ${timing}`;
}

/**
 * Each event under the event its `causationid` names (an edge of the answer); the others are
 * roots. Timings are from the parent, for a root from the root before it; the first shows
 * its append time.
 */
export function renderFlow(id: string, flow: Flow, limit: number): string {
  if (flow.events.length === 0 && flow.hidden === 0) return `no events carry correlationid ${id}\n`;
  const byId = new Map<string, Node>();
  const nodes: Node[] = flow.events.map((event) => ({ event, children: [], parent: null }));
  for (const node of nodes) if (!byId.has(node.event.id)) byId.set(node.event.id, node);
  for (const edge of flow.edges) {
    const child = nodes.find((n) => n.event.id === edge.to && n.parent === null);
    const parent = byId.get(edge.from);
    if (child === undefined || parent === undefined || parent === child) continue;
    child.parent = parent;
    parent.children.push(child);
  }
  const topics = new Set(flow.events.map((e) => e.topic)).size;
  const out: string[] = [
    `flow ${id}: ${flow.events.length} event${flow.events.length === 1 ? "" : "s"} on ${topics} topic${topics === 1 ? "" : "s"}`,
  ];
  const walk = (
    node: Node,
    prefix: string,
    last: boolean,
    root: boolean,
    prev: StoredEvent | null,
  ) => {
    out.push(root ? line(node, prev) : `${prefix}${last ? "└─ " : "├─ "}${line(node, prev)}`);
    const inner = root ? "" : `${prefix}${last ? "   " : "│  "}`;
    node.children.forEach((child, i) => {
      walk(child, inner, i === node.children.length - 1, false, null);
    });
  };
  let previousRoot: StoredEvent | null = null;
  for (const node of nodes) {
    if (node.parent !== null) continue;
    walk(node, "", true, true, previousRoot);
    previousRoot = node.event;
  }
  if (flow.hidden > 0)
    out.push(`${flow.hidden} more event(s) on topics this key may not read are not shown`);
  if (flow.truncated) out.push(`truncated at ${limit} events (raise --limit, at most 10000)`);
  return `${out.join("\n")}\n`;
}
