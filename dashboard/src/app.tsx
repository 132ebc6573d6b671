import { createContext } from "preact";
import { useContext, useEffect, useState } from "preact/hooks";
import { enc, resume, runsWithoutAuth, type Session, signOut, whenSignedOut } from "./api.ts";
import { ErrorNote, Link } from "./components.tsx";
import { DeadLettersPage } from "./pages/dead-letters.tsx";
import { FlowPage, FlowSearch } from "./pages/flow.tsx";
import { KeysPage } from "./pages/keys.tsx";
import { LoginPage } from "./pages/login.tsx";
import { OverviewPage } from "./pages/overview.tsx";
import { SchemaPage, SchemasPage } from "./pages/schemas.tsx";
import { SubscriptionPage } from "./pages/subscription.tsx";
import { TopicPage } from "./pages/topic.tsx";
import { navigate, usePath } from "./route.ts";
import { Scopes } from "./scopes.ts";

export interface SignedIn {
  /** Undefined when the router runs without auth: every request is allowed, no session. */
  readonly session: Session | undefined;
  readonly scopes: Scopes;
}

/** Without auth the router allows everything, as an admin key would. */
const OPEN: SignedIn = { session: undefined, scopes: new Scopes(["admin"]) };

const SessionContext = createContext<SignedIn | undefined>(undefined);

export function useSignedIn(): SignedIn {
  const value = useContext(SessionContext);
  if (value === undefined) throw new Error("used outside a session");
  return value;
}

/** A page the key's scopes cannot use says so instead of showing the router's 403. */
function NotAllowed(props: { what: string }) {
  return (
    <>
      <h1>{props.what}</h1>
      <p class="notice">This key may not see {props.what}.</p>
    </>
  );
}

function Page(props: { path: string }) {
  const { scopes, session } = useSignedIn();
  const parts = props.path.split("/").filter((p) => p !== "");
  const name = parts[1] === undefined ? undefined : decodeURIComponent(parts[1]);
  if (parts[0] === "topics" && name !== undefined)
    return scopes.may("read", name) || scopes.may("manage", name) ? (
      <TopicPage topic={name} />
    ) : (
      <NotAllowed what={`topic ${name}`} />
    );
  if (parts[0] === "subscriptions" && name !== undefined) {
    if (!scopes.may("manage", name) && !scopes.may("consume", name))
      return <NotAllowed what={`subscription ${name}`} />;
    if (parts[2] === "dead-letters") return <DeadLettersPage name={name} />;
    return <SubscriptionPage name={name} />;
  }
  // Any key may ask for a flow: the router leaves out what the key may not read.
  if (parts[0] === "flows" && name !== undefined) return <FlowPage id={name} />;
  if (parts[0] === "schemas")
    return name === undefined ? <SchemasPage /> : <SchemaPage type={name} />;
  if (parts[0] === "keys")
    return scopes.admin ? <KeysPage ownId={session?.key.id} /> : <NotAllowed what="the keys" />;
  return <OverviewPage />;
}

export function App() {
  const path = usePath();
  const [signed, setSigned] = useState<SignedIn | undefined>(undefined);
  const [checked, setChecked] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const accept = (session: Session) =>
    setSigned({ session, scopes: new Scopes(session.key.scopes) });

  useEffect(() => {
    whenSignedOut(() => setSigned(undefined));
    resume()
      .then(async (session) => {
        if (session !== undefined) accept(session);
        else if (await runsWithoutAuth()) setSigned(OPEN);
      })
      .catch(setError)
      .finally(() => setChecked(true));
  }, []);

  if (!checked) return <p class="loading">Loading…</p>;
  if (signed === undefined)
    return (
      <>
        <ErrorNote error={error} />
        <LoginPage onSignedIn={accept} />
      </>
    );
  const logout = async () => {
    try {
      await signOut();
    } finally {
      setSigned(undefined);
      navigate("");
    }
  };
  return (
    <SessionContext.Provider value={signed}>
      <header class="top">
        <nav aria-label="Main">
          <Link to="" class="brand">
            Switchyard
          </Link>
          <Link to="schemas">Schemas</Link>
          {signed.scopes.admin && signed.session !== undefined ? <Link to="keys">Keys</Link> : null}
        </nav>
        <FlowSearch onOpen={(id) => navigate(`flows/${enc(id)}`)} />
        {signed.session === undefined ? (
          <span class="who">This router runs without auth</span>
        ) : (
          <>
            <span class="who">
              Signed in as <strong>{signed.session.key.name}</strong>
            </span>
            <button type="button" onClick={logout}>
              Sign out
            </button>
          </>
        )}
      </header>
      <main>
        <Page path={path} key={path} />
      </main>
    </SessionContext.Provider>
  );
}
