import { useState } from "preact/hooks";
import { type Session, signIn } from "../api.ts";
import { ErrorNote } from "../components.tsx";

/** The key is sent once, to POST /ui/session; the page keeps only the CSRF token. */
export function LoginPage(props: { onSignedIn: (session: Session) => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const session = await signIn(key.trim());
      setKey("");
      props.onSignedIn(session);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <h1>Switchyard</h1>
      <form onSubmit={submit} aria-labelledby="login-title">
        <h2 id="login-title">Sign in</h2>
        <label for="key">API key</label>
        <input
          id="key"
          name="key"
          type="password"
          autocomplete="off"
          placeholder="sy_…"
          required
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
        />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        <ErrorNote error={error} />
      </form>
    </main>
  );
}
