/**
 * The indexed attributes of a stored event, read by both engines' indexes. `given` is what
 * the publish pipeline already read (undefined when it did not), so the body is parsed only
 * for events that come from elsewhere (a backfill, a scheduled firing, a redrive).
 */
function stringAttribute(
  body: string,
  name: "subject" | "correlationid",
  given: string | null | undefined,
): string | null {
  if (given !== undefined) return given;
  const value = (JSON.parse(body) as Record<string, unknown>)[name];
  return typeof value === "string" ? value : null;
}

/** The event's `correlationid` when it is a string. */
export function correlationIdOf(body: string, given: string | null | undefined): string | null {
  return stringAttribute(body, "correlationid", given);
}

/** The event's `subject` when it is a string. */
export function subjectOf(body: string, given: string | null | undefined): string | null {
  return stringAttribute(body, "subject", given);
}
