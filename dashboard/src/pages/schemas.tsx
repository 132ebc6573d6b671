import { useState } from "preact/hooks";
import { call, enc } from "../api.ts";
import { ErrorNote, Json, Link, useFocusHeading, usePoll } from "../components.tsx";

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
        </>
      )}
    </>
  );
}
