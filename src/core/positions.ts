/** Where a new subscription starts, or where `seek` moves it. */
export type StartPosition =
  | "earliest"
  | "latest"
  | { readonly offset: number }
  | { readonly time: string };

/** Where a log read starts: an offset (inclusive) or the first event appended at or after a time. */
export type LogPosition = { readonly offset: number } | { readonly time: number };
