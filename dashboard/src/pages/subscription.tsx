import { useState } from "preact/hooks";
import { call, enc, type Subscription } from "../api.ts";
import { useSignedIn } from "../app.tsx";
import { type Attempt, succeeded } from "../attempts.ts";
import { AttemptsChart } from "../attempts-chart.tsx";
import { ErrorNote, Json, Link, ms, Stat, useFocusHeading, usePoll } from "../components.tsx";

/** The chart shows this many of the newest attempts, the table the first TABLE_ROWS. */
const CHART_ATTEMPTS = 200;
const TABLE_ROWS = 20;

/**
 * The API never answers secrets or header values (only `secretCount`, `headerNames`);
 * the page drops anything shaped like one anyway, so a future field cannot leak here.
 */
function withoutSecrets(sub: Subscription): unknown {
  const { stats: _stats, state: _state, health: _health, ...config } = sub;
  if (config.push === null) return config;
  const hidden = new Set(["headers", "secrets", "secret"]);
  const push = Object.fromEntries(Object.entries(config.push).filter(([k]) => !hidden.has(k)));
  return { ...config, push };
}

function Seek(props: { name: string; onDone: () => void }) {
  const [to, setTo] = useState<"earliest" | "latest" | "offset" | "time">("latest");
  const [value, setValue] = useState("");
  const [answer, setAnswer] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const submit = async (event: Event) => {
    event.preventDefault();
    const target =
      to === "offset"
        ? { offset: Number(value) }
        : to === "time"
          ? { time: new Date(value).toISOString() }
          : to;
    try {
      const result = await call<{ position: number }>(
        "POST",
        `/v1/subscriptions/${enc(props.name)}/seek`,
        { to: target },
      );
      setAnswer(`Moved to offset ${result.position}`);
      setError(undefined);
      props.onDone();
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <form class="actions" onSubmit={submit} aria-labelledby="seek-title">
      <h3 id="seek-title" class="visually-hidden">
        Seek
      </h3>
      <div>
        <label for="seek-to">Seek to</label>
        <select id="seek-to" value={to} onChange={(e) => setTo(e.currentTarget.value as typeof to)}>
          <option value="earliest">earliest</option>
          <option value="latest">latest</option>
          <option value="offset">offset</option>
          <option value="time">time</option>
        </select>
      </div>
      {to === "offset" || to === "time" ? (
        <div>
          <label for="seek-value">{to === "offset" ? "Offset" : "Time"}</label>
          <input
            id="seek-value"
            type={to === "offset" ? "number" : "datetime-local"}
            required
            value={value}
            onInput={(e) => setValue(e.currentTarget.value)}
          />
        </div>
      ) : null}
      <button type="submit">Seek</button>
      <span aria-live="polite">{answer}</span>
      <ErrorNote error={error} />
    </form>
  );
}

function Attempts(props: { name: string }) {
  const { value, error } = usePoll(
    () =>
      call<{ attempts: Attempt[] }>(
        "GET",
        `/v1/subscriptions/${enc(props.name)}/attempts?limit=${CHART_ATTEMPTS}`,
      ),
    5000,
    [props.name],
  );
  const attempts = value?.attempts ?? [];
  return (
    <section aria-labelledby="attempts-title">
      <h2 id="attempts-title">Recent push attempts</h2>
      <ErrorNote error={error} />
      {value === undefined ? null : <AttemptsChart attempts={attempts} />}
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">At</th>
              <th scope="col">Event</th>
              <th scope="col">Attempt</th>
              <th scope="col">Status</th>
              <th scope="col">Latency</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {attempts.slice(0, TABLE_ROWS).map((a) => (
              <tr key={`${a.eventId}-${a.attempt}-${a.at}`}>
                <td>{new Date(a.at).toLocaleString()}</td>
                <td>{a.eventId}</td>
                <td class="num">{a.attempt}</td>
                <td>
                  {a.status ?? "no answer"}
                  {succeeded(a) ? "" : " (failed)"}
                </td>
                <td class="num">{ms(a.latencyMs)}</td>
                <td>{a.error ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function SubscriptionPage(props: { name: string }) {
  const { scopes } = useSignedIn();
  const heading = useFocusHeading();
  const [actionError, setActionError] = useState<unknown>(undefined);
  const { value, error, reload } = usePoll(
    () => call<Subscription>("GET", `/v1/subscriptions/${enc(props.name)}`),
    2000,
    [props.name],
  );
  const manage = scopes.may("manage", props.name);
  const s = value?.stats;
  const act = async (what: "pause" | "resume") => {
    try {
      await call("POST", `/v1/subscriptions/${enc(props.name)}/${what}`, {});
      setActionError(undefined);
      reload();
    } catch (caught) {
      setActionError(caught);
    }
  };
  return (
    <>
      <h1 ref={heading} tabIndex={-1}>
        Subscription {props.name}
      </h1>
      <ErrorNote error={error} />
      {value === undefined ? null : (
        <>
          <p>
            Reads <Link to={`topics/${enc(value.topic)}`}>{value.topic}</Link>;{" "}
            <Link to={`subscriptions/${enc(props.name)}/dead-letters`}>dead letters</Link> go to{" "}
            {value.deadLetterTopic}.
          </p>
          <dl class="stats">
            <Stat label="Lag" value={s?.lag ?? "—"} />
            <Stat label="In flight" value={s?.inFlight ?? "—"} />
            <Stat label="Oldest unacked" value={ms(s?.oldestUnackedAgeMs)} />
            <Stat label="Delivered" value={s?.delivered ?? "—"} />
            <Stat label="Acked" value={s?.acked ?? "—"} />
            <Stat label="Dead-lettered" value={s?.deadLettered ?? "—"} />
            <Stat label="Position" value={s?.position ?? "—"} />
            {value.push === null ? null : (
              <>
                <Stat
                  label="Endpoint"
                  value={<span class={`state ${value.state ?? ""}`}>{value.state ?? "—"}</span>}
                />
                <Stat label="Circuit" value={value.health?.circuit ?? "—"} />
                <Stat label="Consecutive failures" value={value.health?.consecutiveFailures ?? 0} />
              </>
            )}
          </dl>
          {value.health?.pausedReason === undefined ? null : (
            <p class="notice">Paused: {value.health.pausedReason}</p>
          )}
          {manage ? (
            <section aria-labelledby="actions-title">
              <h2 id="actions-title">Actions</h2>
              <Seek name={props.name} onDone={reload} />
              {value.push === null ? null : (
                <div class="actions">
                  {value.state === "paused" ? (
                    <button type="button" onClick={() => act("resume")}>
                      Resume
                    </button>
                  ) : (
                    <button type="button" onClick={() => act("pause")}>
                      Pause
                    </button>
                  )}
                </div>
              )}
              <ErrorNote error={actionError} />
            </section>
          ) : null}
          <section aria-labelledby="config-title">
            <h2 id="config-title">Configuration</h2>
            <Json value={withoutSecrets(value)} />
          </section>
          {value.push === null ? null : <Attempts name={props.name} />}
        </>
      )}
    </>
  );
}
