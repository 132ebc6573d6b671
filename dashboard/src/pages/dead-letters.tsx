import { useState } from "preact/hooks";
import {
  call,
  type EventPage,
  enc,
  type RedriveAnswer,
  type RedriveJob,
  type StoredEvent,
  type Subscription,
} from "../api.ts";
import { useSignedIn } from "../app.tsx";
import { ErrorNote, Link, useFocusHeading, usePoll } from "../components.tsx";
import { EventItem } from "../events.tsx";

const SHOWN = 200;

/** The dead-letter topic may be shared: only this subscription's letters, newest last. */
async function letters(topic: string, name: string): Promise<StoredEvent[]> {
  const stats = await call<{ stats?: { lastOffset: number } }>("GET", `/v1/topics/${enc(topic)}`);
  const from = Math.max(1, (stats.stats?.lastOffset ?? 0) - 999);
  const page = await call<EventPage>(
    "GET",
    `/v1/topics/${enc(topic)}/events?from=${from}&limit=1000`,
  );
  return page.events.filter((e) => e.deadlettersubscription === name).slice(-SHOWN);
}

const sleep = (delayMs: number) => new Promise((resolve) => setTimeout(resolve, delayMs));

function Redrive(props: { name: string; onMoved: () => void }) {
  const [dry, setDry] = useState<RedriveAnswer | undefined>(undefined);
  const [job, setJob] = useState<RedriveJob | undefined>(undefined);
  const [limit, setLimit] = useState("");
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const body = (dryRun: boolean) => ({
    ...(limit === "" ? {} : { limit: Number(limit) }),
    ...(dryRun ? { dryRun: true } : {}),
  });
  const path = `/v1/subscriptions/${enc(props.name)}`;
  const preview = async () => {
    setBusy(true);
    setJob(undefined);
    try {
      setDry(await call<RedriveAnswer>("POST", `${path}/redrive`, body(true)));
      setError(undefined);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  const run = async () => {
    setBusy(true);
    try {
      const started = await call<RedriveAnswer>("POST", `${path}/redrive`, body(false));
      setDry(undefined);
      let state: RedriveJob = { state: "running", matched: started.matched, moved: 0 };
      setJob(state);
      while (state.state === "running" && started.redrive !== undefined) {
        await sleep(500);
        state = await call<RedriveJob>("GET", `${path}/redrives/${enc(started.redrive)}`);
        setJob(state);
      }
      props.onMoved();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="redrive-title">
      <h2 id="redrive-title">Redrive</h2>
      <p>A dry run counts what would move; then confirm to re-enqueue into the subscription.</p>
      <div class="actions">
        <div>
          <label for="redrive-limit">At most (optional)</label>
          <input
            id="redrive-limit"
            type="number"
            min={1}
            value={limit}
            onInput={(e) => setLimit(e.currentTarget.value)}
          />
        </div>
        <button type="button" onClick={preview} disabled={busy}>
          Dry run
        </button>
        {dry === undefined ? null : (
          <button type="button" class="danger" onClick={run} disabled={busy || dry.matched === 0}>
            Redrive {dry.matched} events
          </button>
        )}
      </div>
      <p aria-live="polite" class="redrive-status">
        {dry === undefined
          ? null
          : `Dry run: ${dry.matched} dead letters over ${dry.keys} keys would move.`}
        {job === undefined ? null : `Redrive ${job.state}: ${job.moved} of ${job.matched} moved.`}
      </p>
      <ErrorNote error={error} />
    </section>
  );
}

export function DeadLettersPage(props: { name: string }) {
  const { scopes } = useSignedIn();
  const heading = useFocusHeading();
  const sub = usePoll(() => call<Subscription>("GET", `/v1/subscriptions/${enc(props.name)}`), 0, [
    props.name,
  ]);
  const topic = sub.value?.deadLetterTopic;
  const readable = topic !== undefined && scopes.may("read", topic);
  const list = usePoll(() => (readable ? letters(topic, props.name) : Promise.resolve([])), 3000, [
    topic,
    readable,
  ]);
  return (
    <>
      <h1 ref={heading} tabIndex={-1}>
        Dead letters of {props.name}
      </h1>
      <p>
        <Link to={`subscriptions/${enc(props.name)}`}>Back to the subscription</Link>
      </p>
      <ErrorNote error={sub.error} />
      {sub.value === undefined ? null : (
        <p>
          {sub.value.stats?.deadLettered ?? 0} dead-lettered so far, kept in {topic}.
        </p>
      )}
      {scopes.may("manage", props.name) ? (
        <Redrive name={props.name} onMoved={() => sub.reload()} />
      ) : null}
      {readable ? (
        <section aria-labelledby="letters-title">
          <h2 id="letters-title">Latest dead letters</h2>
          <ErrorNote error={list.error} />
          <ul class="events" aria-label="Dead letters">
            {(list.value ?? []).map((e) => (
              <EventItem
                key={e.offset}
                event={e}
                extra={
                  <p class="reason">
                    Reason: {String(e.deadletterreason ?? "—")} after{" "}
                    {String(e.deadletterattempts ?? "?")} attempts
                  </p>
                }
              />
            ))}
          </ul>
        </section>
      ) : (
        <p>This key may not read the dead-letter topic.</p>
      )}
    </>
  );
}
