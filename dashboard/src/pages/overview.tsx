import { useRef } from "preact/hooks";
import { call, enc, type Subscription, type Topic } from "../api.ts";
import { useSignedIn } from "../app.tsx";
import { RateChart } from "../chart.tsx";
import { bytes, ErrorNote, Link, ms, useFocusHeading, usePoll } from "../components.tsx";
import type { Scopes } from "../scopes.ts";

const POLL_MS = 2000;
const POINTS = 90;

interface Overview {
  readonly topics: readonly Topic[];
  readonly subscriptions: readonly Subscription[];
  readonly times: readonly number[];
  readonly publish: readonly number[];
  readonly deliver: readonly number[];
}

interface Sample {
  readonly at: number;
  readonly appended: number;
  readonly acked: number;
}

/** One request per item every poll: past this many, the rest are listed without stats. */
const MAX_DETAILS = 100;

/** Details of each listed item the key may read; a failed one is shown without stats. */
async function details<T>(items: readonly T[], load: (item: T) => Promise<T>): Promise<T[]> {
  return Promise.all(
    items.map((item, i) => (i < MAX_DETAILS ? load(item).catch(() => item) : item)),
  );
}

async function loadOverview(scopes: Scopes) {
  const { topics } = await call<{ topics: Topic[] }>("GET", "/v1/topics");
  const withStats = await details(topics, (t) =>
    t.stats !== undefined ? Promise.resolve(t) : call<Topic>("GET", `/v1/topics/${enc(t.name)}`),
  );
  const { subscriptions } = await call<{ subscriptions: Subscription[] }>(
    "GET",
    "/v1/subscriptions",
  );
  const subs = await details(
    subscriptions.filter((s) => scopes.may("manage", s.name) || scopes.may("consume", s.name)),
    (s) => call<Subscription>("GET", `/v1/subscriptions/${enc(s.name)}`),
  );
  return { topics: withStats, subscriptions: subs };
}

/** Unhealthy push endpoints first, then the most lag. */
function rank(s: Subscription): number {
  if (s.state === "degraded") return 0;
  if (s.state === "paused") return 1;
  return 2;
}

export function OverviewPage() {
  const { scopes } = useSignedIn();
  const heading = useFocusHeading();
  const last = useRef<Sample | undefined>(undefined);
  const series = useRef({
    times: [] as number[],
    publish: [] as number[],
    deliver: [] as number[],
  });
  const { value, error } = usePoll<Overview>(
    async () => {
      const { topics, subscriptions } = await loadOverview(scopes);
      // Rates from the public API: appended offsets over the topics this key reads, acks
      // over its subscriptions; the difference between two polls over the time between.
      const sample: Sample = {
        at: Date.now(),
        appended: topics.reduce((sum, t) => sum + (t.stats?.lastOffset ?? 0), 0),
        acked: subscriptions.reduce((sum, s) => sum + (s.stats?.acked ?? 0), 0),
      };
      const previous = last.current;
      last.current = sample;
      if (previous !== undefined) {
        const seconds = Math.max(0.001, (sample.at - previous.at) / 1000);
        const s = series.current;
        const keep = (values: number[], next: number) => [...values, next].slice(-POINTS);
        series.current = {
          times: keep(s.times, sample.at / 1000),
          publish: keep(s.publish, Math.max(0, sample.appended - previous.appended) / seconds),
          deliver: keep(s.deliver, Math.max(0, sample.acked - previous.acked) / seconds),
        };
      }
      return { topics, subscriptions, ...series.current };
    },
    POLL_MS,
    [],
  );
  const subs = [...(value?.subscriptions ?? [])].sort(
    (a, b) => rank(a) - rank(b) || (b.stats?.lag ?? 0) - (a.stats?.lag ?? 0),
  );
  const topics = [...(value?.topics ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <>
      <h1 ref={heading} tabIndex={-1}>
        Overview
      </h1>
      <ErrorNote error={error} />
      <section class="charts" aria-label="Rates">
        <RateChart
          title="Published"
          series={[{ label: "events", stroke: "#2563eb" }]}
          times={value?.times ?? []}
          values={[value?.publish ?? []]}
        />
        <RateChart
          title="Delivered (acked)"
          series={[{ label: "acks", stroke: "#16a34a" }]}
          times={value?.times ?? []}
          values={[value?.deliver ?? []]}
        />
      </section>
      <section aria-labelledby="subs-title">
        <h2 id="subs-title">Subscriptions</h2>
        {subs.length === 0 ? (
          <p>No subscriptions this key may see.</p>
        ) : (
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Topic</th>
                  <th scope="col">Kind</th>
                  <th scope="col">State</th>
                  <th scope="col">Lag</th>
                  <th scope="col">In flight</th>
                  <th scope="col">Oldest unacked</th>
                  <th scope="col">Dead-lettered</th>
                </tr>
              </thead>
              <tbody>
                {subs.map((s) => (
                  <tr key={s.name} class={s.state === "degraded" ? "bad" : undefined}>
                    <td>
                      <Link to={`subscriptions/${enc(s.name)}`}>{s.name}</Link>
                    </td>
                    <td>{s.topic}</td>
                    <td>{s.push === null ? "pull" : "push"}</td>
                    <td>
                      <span class={`state ${s.state ?? "pull"}`}>{s.state ?? "—"}</span>
                    </td>
                    <td class="num">{s.stats?.lag ?? "—"}</td>
                    <td class="num">{s.stats?.inFlight ?? "—"}</td>
                    <td class="num">{ms(s.stats?.oldestUnackedAgeMs)}</td>
                    <td class="num">
                      <Link to={`subscriptions/${enc(s.name)}/dead-letters`}>
                        {s.stats?.deadLettered ?? "—"}
                      </Link>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section aria-labelledby="topics-title">
        <h2 id="topics-title">Topics</h2>
        {topics.length === 0 ? (
          <p>No topics this key may see.</p>
        ) : (
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Events</th>
                  <th scope="col">Size</th>
                  <th scope="col">Offsets</th>
                </tr>
              </thead>
              <tbody>
                {topics.map((t) => (
                  <tr key={t.name}>
                    <td>
                      <Link to={`topics/${enc(t.name)}`}>{t.name}</Link>
                      {t.owner === "router" ? <span class="tag">router</span> : null}
                    </td>
                    <td class="num">{t.stats?.events ?? "—"}</td>
                    <td class="num">{bytes(t.stats?.bytes)}</td>
                    <td class="num">
                      {t.stats === undefined ? "—" : `${t.stats.firstOffset}–${t.stats.lastOffset}`}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
