import { useState } from "preact/hooks";
import { call, enc } from "../api.ts";
import { ErrorNote, Json, Link, useFocusHeading, usePoll } from "../components.tsx";
import { type DiffLine, jsonDiff } from "../json-diff.ts";

interface SchemaSummary {
  readonly type: string;
  readonly latest: number;
  readonly compatibility: string;
}

interface SchemaDetail {
  readonly type: string;
  readonly compatibility: string;
  readonly versions: readonly { version: number; createdAt: string }[];
  readonly schema: unknown;
}

/** Schemas are readable by any key (they describe shapes, not data). */
export function SchemasPage() {
  const heading = useFocusHeading();
  const { value, error } = usePoll(
    () => call<{ schemas: SchemaSummary[] }>("GET", "/v1/schemas"),
    10_000,
    [],
  );
  const schemas = [...(value?.schemas ?? [])].sort((a, b) => a.type.localeCompare(b.type));
  return (
    <>
      <h1 ref={heading} tabIndex={-1}>
        Schemas
      </h1>
      <ErrorNote error={error} />
      {value !== undefined && schemas.length === 0 ? <p>No schemas registered.</p> : null}
      {schemas.length === 0 ? null : (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Event type</th>
                <th scope="col">Latest version</th>
                <th scope="col">Compatibility</th>
              </tr>
            </thead>
            <tbody>
              {schemas.map((s) => (
                <tr key={s.type}>
                  <td>
                    <Link to={`schemas/${enc(s.type)}`}>{s.type}</Link>
                  </td>
                  <td class="num">{s.latest}</td>
                  <td>{s.compatibility}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

const MARK = { same: " ", added: "+", removed: "-" } as const;

function DiffRow(props: { line: DiffLine }) {
  const l = props.line;
  if (l.kind === "skip")
    return (
      <span class="diff-skip">
        {"  "}… {l.count} unchanged line{l.count === 1 ? "" : "s"}
        {"\n"}
      </span>
    );
  // The +/- mark is text, so the change reads without its colour (and in a screen reader).
  const text = `${MARK[l.kind]} ${l.text}`;
  if (l.kind === "added") return <ins class="diff-added">{text}</ins>;
  if (l.kind === "removed") return <del class="diff-removed">{text}</del>;
  return <span>{text}</span>;
}

/** Two versions of a type side by side as a line diff; each is fetched by its own route. */
function SchemaDiff(props: { path: string; versions: readonly { version: number }[] }) {
  const numbers = props.versions.map((v) => v.version);
  const latest = numbers.at(-1) ?? 1;
  const [from, setFrom] = useState(numbers.at(-2) ?? latest);
  const [to, setTo] = useState(latest);
  const pair = usePoll(
    () =>
      Promise.all(
        [from, to].map((n) =>
          call<{ schema: unknown }>("GET", `${props.path}/versions/${n}`).then((r) => r.schema),
        ),
      ),
    0,
    [props.path, from, to],
  );
  const diff = pair.value === undefined ? undefined : jsonDiff(pair.value[0], pair.value[1]);
  const select = (id: string, label: string, value: number, set: (n: number) => void) => (
    <div>
      <label for={id}>{label}</label>
      <select id={id} value={String(value)} onChange={(e) => set(Number(e.currentTarget.value))}>
        {numbers.map((n) => (
          <option key={n} value={String(n)}>
            {n}
          </option>
        ))}
      </select>
    </div>
  );
  return (
    <section aria-labelledby="diff-title">
      <h2 id="diff-title">Compare versions</h2>
      <div class="actions">
        {select("diff-from", "From version", from, setFrom)}
        {select("diff-to", "To version", to, setTo)}
      </div>
      <ErrorNote error={pair.error} />
      {diff === undefined ? null : (
        <>
          <p id="diff-summary" aria-live="polite">
            {diff.added === 0 && diff.removed === 0
              ? `Versions ${from} and ${to} are the same.`
              : `From version ${from} to ${to}: ${diff.added} line${diff.added === 1 ? "" : "s"} added (+), ${diff.removed} removed (-). Keys are sorted.`}
          </p>
          <pre class="json diff" aria-describedby="diff-summary">
            {diff.lines.map((line, i) => (
              <DiffRow key={i} line={line} />
            ))}
          </pre>
        </>
      )}
    </section>
  );
}

export function SchemaPage(props: { type: string }) {
  const heading = useFocusHeading();
  const path = `/v1/schemas/${enc(props.type)}`;
  const detail = usePoll(() => call<SchemaDetail>("GET", path), 0, [props.type]);
  const [version, setVersion] = useState<number | undefined>(undefined);
  const chosen = usePoll(
    () =>
      version === undefined
        ? Promise.resolve(undefined)
        : call<{ schema: unknown }>("GET", `${path}/versions/${version}`),
    0,
    [props.type, version],
  );
  const d = detail.value;
  const latest = d?.versions.at(-1)?.version;
  return (
    <>
      <h1 ref={heading} tabIndex={-1}>
        Schema {props.type}
      </h1>
      <p>
        <Link to="schemas">All schemas</Link>
      </p>
      <ErrorNote error={detail.error ?? chosen.error} />
      {d === undefined ? null : (
        <>
          <p>
            Compatibility <strong>{d.compatibility}</strong>; {d.versions.length} versions.
          </p>
          <div class="actions">
            <div>
              <label for="schema-version">Version</label>
              <select
                id="schema-version"
                value={String(version ?? latest ?? "")}
                onChange={(e) => setVersion(Number(e.currentTarget.value))}
              >
                {d.versions.map((v) => (
                  <option key={v.version} value={String(v.version)}>
                    {v.version} ({new Date(v.createdAt).toLocaleString()})
                  </option>
                ))}
              </select>
            </div>
          </div>
          <Json value={version === undefined ? d.schema : chosen.value?.schema} />
          {d.versions.length < 2 ? (
            <p>One version: nothing to compare yet.</p>
          ) : (
            <SchemaDiff key={latest} path={path} versions={d.versions} />
          )}
        </>
      )}
    </>
  );
}
