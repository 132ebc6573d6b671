import { describe, expect, it } from "vitest";
import { unconfirmedAsFailed } from "./event-log.js";

describe("a JetStream publish outcome", () => {
  it("is no confirmation when the duplicate it names is still being stored (sequence 0)", () => {
    const outcome = unconfirmedAsFailed({ kind: "stored", seq: 0, duplicate: true }, "orders");
    expect(outcome.kind).toBe("failed");
    if (outcome.kind !== "failed") return;
    expect(outcome.error.code).toBe("engine_unavailable");
    expect(outcome.error.message).toContain("publish it again with the same source and id");
  });

  it("keeps stored events and duplicates with a sequence as they are", () => {
    for (const stored of [
      { kind: "stored", seq: 7, duplicate: false },
      { kind: "stored", seq: 7, duplicate: true },
      { kind: "no-stream" },
    ] as const)
      expect(unconfirmedAsFailed(stored, "orders")).toBe(stored);
  });
});
