import { useEffect, useRef, useState } from "preact/hooks";
import { call, type EventPage, enc, type StoredEvent, type Topic } from "../api.ts";
import { useSignedIn } from "../app.tsx";
import { bytes, ErrorNote, Json, ms, Stat, useFocusHeading, usePoll } from "../components.tsx";
import { type EventFilter, EventItem, FilterFields, matches, NO_FILTER } from "../events.tsx";

const PAGE = 50;
const TAIL_MS = 1000;
const TAIL_KEEP = 200;

function Details(props: { topic: Topic }) {
  const t = props.topic;
  const r = t.retention;
  return (
    <section aria-labelledby="topic-stats">
      <h2 id="topic-stats">Stats and configuration</h2>
      <dl class="stats">
        <Stat label="Events" value={t.stats?.events ?? "—"} />
        <Stat label="Size" value={bytes(t.stats?.bytes)} />
        <Stat label="First offset" value={t.stats?.firstOffset ?? "—"} />
        <Stat label="Last offset" value={t.stats?.lastOffset ?? "—"} />
        <Stat label="Retention, age" value={r.maxAgeMs === undefined ? "none" : ms(r.maxAgeMs)} />
        <Stat
          label="Retention, size"
          value={r.maxBytes === undefined ? "none" : bytes(r.maxBytes)}
        />
        <Stat label="Retention, events" value={r.maxEvents ?? "none"} />
        <Stat label="Dedupe window" value={ms(t.dedupeWindowMs)} />
        <Stat label="Max event size" value={bytes(t.maxEventBytes)} />
        <Stat label="Indexes" value={(t.indexes ?? []).join(", ") || "none"} />
        <Stat label="Schema validation" value={t.schemas.mode ?? "off"} />
        <Stat
          label="Unregistered types"
          value={t.schemas.allowUnregisteredTypes === false ? "refused" : "allowed"}
        />
      </dl>
      {t.stats?.indexes === undefined ? null : <Json value={{ indexes: t.stats.indexes }} />}
    </section>
  );
}

/** Pages of the log from an offset or a time, filtered here (the API has no filter). */
function Browser(props: { topic: string }) {
  const [mode, setMode] = useState<"offset" | "time">("offset");
  const [from, setFrom] = useState("1");
  const [since, setSince] = useState("");
  const [filter, setFilter] = useState<EventFilter>(NO_FILTER);
  const [page, setPage] = useState<EventPage | undefined>(undefined);
  const [history, setHistory] = useState<number[]>([]);
  const [error, setError] = useState<unknown>(undefined);

  const load = async (query: string, back?: number[]) => {
    try {
      const next = await call<EventPage>(
        "GET",
        `/v1/topics/${enc(props.topic)}/events?${query}&limit=${PAGE}`,
      );
      setPage(next);
      setError(undefined);
      if (back !== undefined) setHistory(back);
    } catch (caught) {
      setError(caught);
    }
  };
  const start = (event?: Event) => {
    event?.preventDefault();
    const query =
      mode === "offset"
        ? `from=${enc(String(Math.max(1, Number(from) || 1)))}`
        : `since=${enc(new Date(since || 0).toISOString())}`;
    void load(query, []);
  };
  useEffect(() => start(), [props.topic]);

  const shown = (page?.events ?? []).filter((e) => matches(e, filter));
  const first = page?.events[0]?.offset;
  return (
    <section aria-labelledby="browser-title">
      <h2 id="browser-title">Events</h2>
      <form class="filters" onSubmit={start} aria-label="Where to read from">
        <div>
          <label for="read-mode">Read by</label>
          <select
            id="read-mode"
            value={mode}
            onChange={(e) => setMode(e.currentTarget.value === "time" ? "time" : "offset")}
          >
            <option value="offset">offset</option>
            <option value="time">append time</option>
          </select>
        </div>
        {mode === "offset" ? (
          <div>
            <label for="read-from">From offset</label>
            <input
              id="read-from"
              type="number"
              min={1}
              value={from}
              onInput={(e) => setFrom(e.currentTarget.value)}
            />
          </div>
        ) : (
          <div>
            <label for="read-since">Since</label>
            <input
              id="read-since"
              type="datetime-local"
              value={since}
              onInput={(e) => setSince(e.currentTarget.value)}
            />
          </div>
        )}
        <button type="submit" class="primary">
          Read
        </button>
      </form>
      <fieldset class="filters">
        <legend>Filter events on this page</legend>
        <FilterFields filter={filter} onChange={setFilter} idPrefix="filter" />
      </fieldset>
      <ErrorNote error={error} />
      <p aria-live="polite" class="page-note">
        {page === undefined
          ? "Loading…"
          : `${shown.length} of ${page.events.length} events on this page match${
              first === undefined ? "" : ` (offsets ${first}–${page.next - 1})`
            }`}
      </p>
      <div class="actions">
        <button
          type="button"
          disabled={history.length === 0}
          onClick={() => {
            const back = history.slice(0, -1);
            void load(`from=${history.at(-1) ?? 1}`, back);
          }}
        >
          Previous page
        </button>
        <button
          type="button"
          disabled={page === undefined || page.events.length < PAGE}
          onClick={() => {
            if (page !== undefined && first !== undefined)
              void load(`from=${page.next}`, [...history, first]);
          }}
        >
          Next page
        </button>
      </div>
      <ul class="events" aria-label="Events of this page">
        {shown.map((e) => (
          <EventItem key={e.offset} event={e} />
        ))}
      </ul>
    </section>
  );
}

/**
 * Live tail by polling the log from its end: the only stream the API has is a
 * subscription's, and taking deliveries there would take them from its consumers.
 */
function Tail(props: { topic: string; lastOffset: number }) {
  const [on, setOn] = useState(false);
  const [events, setEvents] = useState<StoredEvent[]>([]);
  const [filter, setFilter] = useState<EventFilter>(NO_FILTER);
  const [error, setError] = useState<unknown>(undefined);
  const next = useRef(props.lastOffset + 1);
  useEffect(() => {
    if (!on) return;
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const page = await call<EventPage>(
          "GET",
          `/v1/topics/${enc(props.topic)}/events?from=${next.current}&limit=1000`,
        );
        if (!live) return;
        next.current = page.next;
        if (page.events.length > 0)
          setEvents((old) => [...page.events].reverse().concat(old).slice(0, TAIL_KEEP));
        setError(undefined);
      } catch (caught) {
        if (live) setError(caught);
      }
      if (live) timer = setTimeout(poll, TAIL_MS);
    };
    void poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [on, props.topic]);
  const shown = events.filter((e) => matches(e, filter));
  return (
    <section aria-labelledby="tail-title">
      <h2 id="tail-title">Live tail</h2>
      <div class="actions">
        <button type="button" aria-pressed={on} onClick={() => setOn(!on)}>
          {on ? "Stop tail" : "Start tail"}
        </button>
        <span aria-live="polite">
          {on ? `Tailing from offset ${next.current}; ${events.length} new events` : "Stopped"}
        </span>
      </div>
      <fieldset class="filters">
        <legend>Filter the tail</legend>
        <FilterFields filter={filter} onChange={setFilter} idPrefix="tail" />
      </fieldset>
      <ErrorNote error={error} />
      <ul class="events" aria-label="Live events, newest first" id="tail-events">
        {shown.map((e) => (
          <EventItem key={e.offset} event={e} />
        ))}
      </ul>
    </section>
  );
}

export function TopicPage(props: { topic: string }) {
  const { scopes } = useSignedIn();
  const heading = useFocusHeading();
  const { value, error } = usePoll(
    () => call<Topic>("GET", `/v1/topics/${enc(props.topic)}`),
    5000,
    [props.topic],
  );
  const readable = scopes.may("read", props.topic);
  return (
    <>
      <h1 ref={heading} tabIndex={-1}>
        Topic {props.topic}
      </h1>
      <ErrorNote error={error} />
      {value === undefined ? null : <Details topic={value} />}
      {readable ? <Browser topic={props.topic} /> : <p>This key may not read events here.</p>}
      {readable && value !== undefined ? (
        <Tail topic={props.topic} lastOffset={value.stats?.lastOffset ?? 0} />
      ) : null}
    </>
  );
}
