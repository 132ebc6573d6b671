// RFC 3339 `date-time` with the `T` separator, seconds and a zone, as CloudEvents writes `time`.
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Whether `value` is an RFC 3339 date-time that every validator of the `date-time` format
 * accepts: stricter than the RFC where validators differ (no leap second, no space for `T`),
 * so a proposal with `format: "date-time"` never rejects a sample it was inferred from.
 */
export function isDateTime(value: string): boolean {
  const m = DATE_TIME.exec(value);
  if (m === null) return false;
  // Absent zone parts (a `Z` zone) read as 0.
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, zoneH = 0, zoneM = 0] = m
    .slice(1)
    .map((part) => Number(part ?? "0"));
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysIn(year, month) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    zoneH <= 23 &&
    zoneM <= 59
  );
}
