import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api.ts";
import { BASE, onLink } from "./route.ts";

export function Link(props: { to: string; children: ComponentChildren; class?: string }) {
  return (
    <a href={BASE + props.to} onClick={onLink(props.to)} class={props.class}>
      {props.children}
    </a>
  );
}

export function messageOf(error: unknown): string {
  if (error instanceof ApiError)
    return `${error.status} ${error.problem.code ?? ""}: ${error.message}`.trim();
  return error instanceof Error ? error.message : String(error);
}

export function ErrorNote(props: { error: unknown }) {
  if (props.error === undefined) return null;
  return (
    <p class="error" role="alert">
      {messageOf(props.error)}
    </p>
  );
}

/** Calls `load` now and every `everyMs`, keeping the last value and error. */
export function usePoll<T>(load: () => Promise<T>, everyMs: number, deps: readonly unknown[]) {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        const next = await load();
        if (!live) return;
        setValue(next);
        setError(undefined);
      } catch (caught) {
        if (live) setError(caught);
      }
      if (live && everyMs > 0) timer = setTimeout(run, everyMs);
    };
    void run();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [...deps, tick]);
  return { value, error, reload: () => setTick((t) => t + 1) };
}

export function Json(props: { value: unknown }) {
  return <pre class="json">{JSON.stringify(props.value, null, 2)}</pre>;
}

export function Stat(props: { label: string; value: ComponentChildren }) {
  return (
    <div class="stat">
      <dt>{props.label}</dt>
      <dd>{props.value}</dd>
    </div>
  );
}

export const ms = (value: number | undefined): string => {
  if (value === undefined) return "—";
  if (value < 1000) return `${value} ms`;
  if (value < 120_000) return `${(value / 1000).toFixed(1)} s`;
  if (value < 7_200_000) return `${Math.round(value / 60_000)} min`;
  return `${(value / 3_600_000).toFixed(1)} h`;
};

export const bytes = (value: number | undefined): string => {
  if (value === undefined) return "—";
  if (value < 1024) return `${value} B`;
  if (value < 1024 * 1024) return `${(value / 1024).toFixed(1)} KiB`;
  return `${(value / 1024 / 1024).toFixed(1)} MiB`;
};

/** Focuses the page's heading when it changes, so screen readers announce the new page. */
export function useFocusHeading() {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return ref;
}
