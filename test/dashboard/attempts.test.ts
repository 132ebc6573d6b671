/** The subscription page's attempt chart model (dashboard/src/attempts.ts) on its own. */
import { describe, expect, it } from "vitest";
import { type Attempt, chartColumns, median, summary } from "../../dashboard/src/attempts.ts";

const at = (s: number) => new Date(Date.UTC(2026, 11, 6, 20, 0, s)).toISOString();
const attempt = (s: number, status: number | null, latencyMs: number): Attempt => ({
  eventId: `e${s}`,
  attempt: 1,
  at: at(s),
  status,
  latencyMs,
});

describe("the attempt log's summary and chart columns", () => {
  it("counts anything but a 2xx as failed, no answer included", () => {
    const log = [
      attempt(4, 200, 12),
      attempt(3, 503, 30),
      attempt(2, null, 0),
      attempt(1, 204, 10),
      attempt(0, 302, 14),
    ];
    expect(summary(log)).toBe("5 attempts, 3 failed, median latency 12 ms");
    expect(summary([attempt(0, 200, 7)])).toBe("1 attempt, 0 failed, median latency 7 ms");
    expect(summary([])).toBe("No attempts yet.");
  });

  it("takes the middle of an even count as the mean of the two middle values", () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5])).toBe(5);
    expect(median([])).toBeUndefined();
  });

  it("orders the newest-first log by time and splits latency by outcome", () => {
    const [times, ok, failed] = chartColumns([
      attempt(2, 500, 40),
      attempt(1, 200, 10),
      attempt(0, 200, 11),
    ]);
    const t0 = Date.parse(at(0)) / 1000;
    expect(times).toEqual([t0, t0 + 1, t0 + 2]);
    expect(ok).toEqual([11, 10, null]);
    expect(failed).toEqual([null, null, 40]);
  });
});
