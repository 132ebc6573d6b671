import { useState } from "preact/hooks";
import { call, enc } from "../api.ts";
import { ErrorNote, useFocusHeading, usePoll } from "../components.tsx";

interface KeyRecord {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly string[];
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
}

interface Created extends KeyRecord {
  readonly key: string;
}

const when = (value: string | null | undefined) =>
  value === null || value === undefined ? "—" : new Date(value).toLocaleString();

/**
 * Keys (admin only). A created key is shown once, as the API answers it once; it lives in
 * this component's state until the page moves on and is never stored.
 */
function CreateKey(props: { onCreated: () => void }) {
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState("");
  const [expires, setExpires] = useState("");
  const [created, setCreated] = useState<Created | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const submit = async (event: Event) => {
    event.preventDefault();
    try {
      const answer = await call<Created>("POST", "/v1/keys", {
        name: name.trim(),
        scopes: scopes.split(/[\s,]+/).filter((s) => s !== ""),
        ...(expires === "" ? {} : { expiresAt: new Date(expires).toISOString() }),
      });
      setCreated(answer);
      setError(undefined);
      setName("");
      setScopes("");
      setExpires("");
      props.onCreated();
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <section aria-labelledby="create-key-title">
      <h2 id="create-key-title">Create a key</h2>
      <form class="actions" onSubmit={submit}>
        <div>
          <label for="key-name">Name</label>
          <input
            id="key-name"
            required
            maxLength={64}
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </div>
        <div>
          <label for="key-scopes">Scopes (space or comma separated)</label>
          <input
            id="key-scopes"
            required
            placeholder="read:orders consume:billing-*"
            value={scopes}
            onInput={(e) => setScopes(e.currentTarget.value)}
          />
        </div>
        <div>
          <label for="key-expires">Expires (optional)</label>
          <input
            id="key-expires"
            type="datetime-local"
            value={expires}
            onInput={(e) => setExpires(e.currentTarget.value)}
          />
        </div>
        <button type="submit" class="primary">
          Create
        </button>
      </form>
      <ErrorNote error={error} />
      {created === undefined ? null : (
        <div class="notice" role="status">
          <p>
            Key <strong>{created.name}</strong> created. Copy it now: it is not shown again.
          </p>
          <label for="new-key">New key</label>
          <input id="new-key" readOnly value={created.key} size={70} />
          <button type="button" onClick={() => setCreated(undefined)}>
            Done
          </button>
        </div>
      )}
    </section>
  );
}

function RevokeButton(props: { record: KeyRecord; onRevoked: () => void }) {
  const [armed, setArmed] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const revoke = async () => {
    try {
      await call("DELETE", `/v1/keys/${enc(props.record.id)}`);
      props.onRevoked();
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <>
      {armed ? (
        <>
          <button type="button" class="danger" onClick={revoke}>
            Confirm revoking {props.record.name}
          </button>{" "}
          <button type="button" onClick={() => setArmed(false)}>
            Cancel
          </button>
        </>
      ) : (
        <button type="button" onClick={() => setArmed(true)}>
          Revoke {props.record.name}
        </button>
      )}
      <ErrorNote error={error} />
    </>
  );
}

export function KeysPage(props: { ownId: string | undefined }) {
  const heading = useFocusHeading();
  const { value, error, reload } = usePoll(
    () => call<{ keys: KeyRecord[] }>("GET", "/v1/keys"),
    10_000,
    [],
  );
  return (
    <>
      <h1 ref={heading} tabIndex={-1}>
        API keys
      </h1>
      <CreateKey onCreated={reload} />
      <section aria-labelledby="keys-title">
        <h2 id="keys-title">Keys</h2>
        <ErrorNote error={error} />
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Id</th>
                <th scope="col">Scopes</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {(value?.keys ?? []).map((k) => (
                <tr key={k.id}>
                  <td>{k.name}</td>
                  <td>
                    <code>{k.id}</code>
                  </td>
                  <td>{k.scopes.join(" ")}</td>
                  <td>{when(k.createdAt)}</td>
                  <td>{when(k.expiresAt)}</td>
                  <td>{when(k.lastUsedAt)}</td>
                  <td>
                    {k.id === props.ownId ? (
                      "this session's key"
                    ) : (
                      <RevokeButton record={k} onRevoked={reload} />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}
