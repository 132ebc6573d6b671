import { useEffect, useState } from "preact/hooks";

/** Page paths under /ui/; the router answers index.html for each, so reloads work. */
export const BASE = "/ui/";

export function navigate(path: string): void {
  history.pushState(null, "", BASE + path);
  dispatchEvent(new PopStateEvent("popstate"));
}

function current(): string {
  const path = location.pathname;
  return path.startsWith(BASE) ? path.slice(BASE.length) : "";
}

export function usePath(): string {
  const [path, setPath] = useState(current);
  useEffect(() => {
    const update = () => setPath(current());
    addEventListener("popstate", update);
    return () => removeEventListener("popstate", update);
  }, []);
  return path;
}

/** An in-app link: plain navigation for modified clicks, history otherwise. */
export function onLink(path: string) {
  return (event: MouseEvent) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    navigate(path);
  };
}
