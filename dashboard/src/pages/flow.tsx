import { useState } from "preact/hooks";
import { call, enc } from "../api.ts";
import { ErrorNote, Json, Link, ms, Stat, useFocusHeading, usePoll } from "../components.tsx";
import {
  type Flow,
  MAX_DEPTH,
  type Step,
  servicesOf,
  stepsOf,
  type TreeNode,
  treeOf,
} from "../flow.ts";

/** The API's default and its maximum (API.md "Observability"). */
const LIMIT = 1000;
const LIMIT_MAX = 10_000;
const POLL_MS = 3000;
/** Colours for services, by CSS class (the CSP allows no inline colours to be invented). */
const PALETTE = 8;

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

function hiddenNote(n: number): string {
  return n === 1
    ? "1 event on a topic your key cannot read"
    : `${n} events on topics your key cannot read`;
}

function Timing(props: { step: Step }) {
  const { sinceCause, sinceStart } = props.step;
  return (
    <span class="timing">
      {sinceCause === undefined ? (
        <span>{sinceStart === 0 ? "first event" : "no cause shown"}</span>
      ) : (
        <span>+{ms(sinceCause)} after its cause</span>
      )}
      <span>+{ms(sinceStart)} since the first event</span>
    </span>
  );
}

function StepHead(props: { step: Step; service: number; depth?: number }) {
  const e = props.step.event;
  return (
    <div class="head">
      <span class={`svc svc-${props.service % PALETTE}`} aria-hidden="true" />
      <span>
        <span class="visually-hidden">type </span>
        <code>{e.type}</code>
      </span>
      <span>
        service <strong>{e.source}</strong>
      </span>
      <span>
        topic <Link to={`topics/${enc(e.topic)}`}>{e.topic}</Link> #{e.offset}
      </span>
      <Timing step={props.step} />
      {props.depth === undefined ? null : <span class="tag">depth {props.depth}</span>}
    </div>
  );
}

function Branch(props: { nodes: readonly TreeNode[]; services: Map<string, number> }) {
  return (
    <>
      {props.nodes.map((node) => {
        const e = node.step.event;
        return (
          <li key={node.step.index} data-event-id={e.id} data-depth={node.depth}>
            <StepHead
              step={node.step}
              service={props.services.get(e.source) ?? 0}
              {...(node.depth > MAX_DEPTH ? { depth: node.depth } : {})}
            />
            <details>
              <summary>Event {e.id}</summary>
              <Json value={e} />
            </details>
            {node.children.length === 0 ? null : (
              <ul aria-label={`Caused by ${e.type} ${e.id}`}>
                <Branch nodes={node.children} services={props.services} />
              </ul>
            )}
          </li>
        );
      })}
    </>
  );
}

/**
 * One row per event in append order; the bar runs from the cause's append time to the
 * event's (the time that step took), on a scale from the first event to the last. The
 * figures are in the text: the bars repeat them for the eye and are hidden from readers.
 */
function Timeline(props: { steps: readonly Step[]; services: Map<string, number> }) {
  const first = props.steps[0]?.at ?? 0;
  const span = Math.max(1, (props.steps.at(-1)?.at ?? first) - first);
  const percent = (at: number) => `${((at - first) / span) * 100}%`;
  return (
    <ol class="timeline" aria-label="Timeline, in append order">
      {props.steps.map((step) => {
        const start = step.cause === undefined ? step.at : (props.steps[step.cause]?.at ?? step.at);
        const service = (props.services.get(step.event.source) ?? 0) % PALETTE;
        return (
          <li key={step.index} data-event-id={step.event.id}>
            <div class="label">
              <span class="when">+{ms(step.sinceStart)}</span> <code>{step.event.type}</code>{" "}
              <span class="where">{step.event.source}</span>{" "}
              <span class="where">on {step.event.topic}</span>
              {step.sinceCause === undefined ? null : (
                <span class="took"> took {ms(step.sinceCause)}</span>
              )}
            </div>
            <div class="track" aria-hidden="true">
              <span
                class={`bar svc-${service}${step.cause === undefined ? " root" : ""}`}
                style={{
                  left: percent(start),
                  width: `calc(${percent(step.at)} - ${percent(start)})`,
                }}
              />
            </div>
          </li>
        );
      })}
    </ol>
  );
}

function Legend(props: { services: Map<string, number>; steps: readonly Step[] }) {
  return (
    <ul class="legend" aria-label="Services">
      {[...props.services].map(([name, i]) => (
        <li key={name}>
          <span class={`svc svc-${i % PALETTE}`} aria-hidden="true" /> {name}:{" "}
          {plural(props.steps.filter((s) => s.event.source === name).length, "event", "events")}
        </li>
      ))}
    </ul>
  );
}

function Shown(props: { flow: Flow; limit: number; onMore: () => void }) {
  const steps = stepsOf(props.flow);
  const tree = treeOf(steps);
  const services = new Map(servicesOf(steps).map((name, i) => [name, i]));
  const topics = new Set(steps.map((s) => s.event.topic));
  const first = steps[0];
  const last = steps.at(-1);
  return (
    <>
      <dl class="stats">
        <Stat label="Events" value={steps.length} />
        <Stat label="Topics" value={topics.size} />
        <Stat label="Services" value={services.size} />
        <Stat
          label="First to last"
          value={first === undefined || last === undefined ? "—" : ms(last.at - first.at)}
        />
        <Stat
          label="Started"
          value={
            first === undefined ? (
              "—"
            ) : (
              <time dateTime={first.event.appendedat}>{new Date(first.at).toLocaleString()}</time>
            )
          }
        />
      </dl>
      {props.flow.hidden > 0 ? (
        <p class="notice" id="flow-hidden">
          {hiddenNote(props.flow.hidden)}: they are left out, and an event whose cause is among them
          starts its own branch.
        </p>
      ) : null}
      {props.flow.truncated ? (
        <p class="notice" id="flow-truncated">
          Only the first {props.limit} events are shown: the flow has more.{" "}
          {props.limit < LIMIT_MAX ? (
            <button type="button" onClick={props.onMore}>
              Show up to {LIMIT_MAX.toLocaleString("en")} events
            </button>
          ) : null}
        </p>
      ) : null}
      {steps.length === 0 ? (
        <p>
          {props.flow.hidden > 0
            ? "None of its events is on a topic this key may read."
            : "No event carries this correlation id on a topic indexed by correlationid."}
        </p>
      ) : (
        <>
          <section aria-labelledby="tree-title">
            <h2 id="tree-title">Causation</h2>
            <p class="page-note">
              Each event sits under the event its <code>causationid</code> names.
            </p>
            <ul class="tree" aria-label="Causation tree">
              <Branch nodes={tree} services={services} />
            </ul>
          </section>
          <section aria-labelledby="timeline-title">
            <h2 id="timeline-title">Timeline</h2>
            <Legend services={services} steps={steps} />
            <Timeline steps={steps} services={services} />
          </section>
        </>
      )}
    </>
  );
}

export function FlowPage(props: { id: string }) {
  const heading = useFocusHeading();
  const [limit, setLimit] = useState(LIMIT);
  const [live, setLive] = useState(true);
  const { value, error } = usePoll(
    () => call<Flow>("GET", `/v1/flows/${enc(props.id)}?limit=${limit}`),
    live ? POLL_MS : 0,
    [props.id, limit, live],
  );
  return (
    <>
      <h1 ref={heading} tabIndex={-1}>
        Flow {props.id}
      </h1>
      <div class="actions">
        <button type="button" aria-pressed={live} onClick={() => setLive(!live)}>
          {live ? "Stop updating" : "Update every 3 s"}
        </button>
        <span aria-live="polite" class="page-note">
          {value === undefined
            ? "Loading…"
            : `${plural(value.events.length, "event", "events")} shown${
                value.hidden > 0 ? `, ${value.hidden} hidden` : ""
              }${live ? ", updating" : ""}`}
        </span>
      </div>
      <ErrorNote error={error} />
      {value === undefined ? null : (
        <Shown flow={value} limit={limit} onMore={() => setLimit(LIMIT_MAX)} />
      )}
    </>
  );
}

/** Opens a flow by correlation id; in the header, so every page has it. */
export function FlowSearch(props: { onOpen: (id: string) => void }) {
  const [id, setId] = useState("");
  return (
    <form
      class="flow-search"
      aria-label="Open a flow"
      onSubmit={(event) => {
        event.preventDefault();
        const wanted = id.trim();
        if (wanted !== "") props.onOpen(wanted);
      }}
    >
      <label for="flow-id" class="visually-hidden">
        Find a flow
      </label>
      <input
        id="flow-id"
        type="search"
        placeholder="correlation id"
        value={id}
        onInput={(e) => setId(e.currentTarget.value)}
      />
      <button type="submit">Open flow</button>
    </form>
  );
}
