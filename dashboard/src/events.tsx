import type { ComponentChildren } from "preact";
import type { StoredEvent } from "./api.ts";
import { enc } from "./api.ts";
import { Json, Link } from "./components.tsx";

export interface EventFilter {
  readonly type: string;
  readonly subject: string;
  readonly partitionkey: string;
  readonly correlationid: string;
}

export const NO_FILTER: EventFilter = {
  type: "",
  subject: "",
  partitionkey: "",
  correlationid: "",
};

/**
 * The read API pages by offset or time and has no attribute filter, so the page filters
 * what it has read: an attribute matches when it contains the text (types and subjects
 * are hierarchical, `order.` finds them all).
 */
export function matches(event: StoredEvent, filter: EventFilter): boolean {
  return (Object.keys(filter) as (keyof EventFilter)[]).every((name) => {
    const wanted = filter[name].trim();
    if (wanted === "") return true;
    const value = event[name];
    return typeof value === "string" && value.includes(wanted);
  });
}

export function FilterFields(props: {
  filter: EventFilter;
  onChange: (filter: EventFilter) => void;
  idPrefix: string;
}) {
  const fields: [keyof EventFilter, string][] = [
    ["type", "Type"],
    ["subject", "Subject"],
    ["partitionkey", "Partition key"],
    ["correlationid", "Correlation id"],
  ];
  return (
    <>
      {fields.map(([name, label]) => (
        <div key={name}>
          <label for={`${props.idPrefix}-${name}`}>{label}</label>
          <input
            id={`${props.idPrefix}-${name}`}
            type="search"
            value={props.filter[name]}
            onInput={(e) => props.onChange({ ...props.filter, [name]: e.currentTarget.value })}
          />
        </div>
      ))}
    </>
  );
}

/** One event: its main CloudEvents attributes in a line, then the whole event as JSON. */
export function EventItem(props: { event: StoredEvent; extra?: ComponentChildren }) {
  const e = props.event;
  return (
    <li class="event" data-offset={e.offset}>
      <div class="head">
        <strong>#{e.offset}</strong>
        <span>
          <span class="visually-hidden">type </span>
          <code>{e.type}</code>
        </span>
        {e.subject === undefined ? null : <span>subject {e.subject}</span>}
        {e.partitionkey === undefined ? null : <span>key {e.partitionkey}</span>}
        <span>id {e.id}</span>
        {typeof e.correlationid === "string" && e.correlationid !== "" ? (
          <Link to={`flows/${enc(e.correlationid)}`}>
            <span class="visually-hidden">Open the </span>flow {e.correlationid}
          </Link>
        ) : null}
        <time dateTime={e.appendedat}>{new Date(e.appendedat).toLocaleString()}</time>
      </div>
      {props.extra}
      <details>
        <summary>Event {e.id}</summary>
        <Json value={e} />
      </details>
    </li>
  );
}
