import { describe, expect, it } from "vitest";
import { pubAckError, toSwitchyardError } from "./errors.js";

// The PubAck errors nats-server 2.9 answers when it has no room (seen in test/disk).
describe("JetStream 'no room' errors", () => {
  it.each([
    [10023, "insufficient resources"],
    [10002, "resource limits exceeded for account"],
    [10077, "maximum bytes exceeded"],
    [10077, "maximum messages exceeded"],
  ])("PubAck err_code %i %s is storage_full", (code, description) => {
    const error = pubAckError({ err_code: code, description });
    expect(error.code).toBe("storage_full");
    expect(error.message).toContain(description);
  });

  it("another stream refusal stays append_failed", () => {
    expect(pubAckError({ err_code: 10077, description: "maximum payload exceeded" }).code).toBe(
      "append_failed",
    );
  });

  it("an API error with insufficient resources (a KV put, a stream create) is storage_full", () => {
    const error = Object.assign(new Error("insufficient resources"), {
      apiError: () => ({ err_code: 10023 }),
    });
    expect(toSwitchyardError(error, "writing").code).toBe("storage_full");
    expect(toSwitchyardError(new Error("timeout"), "writing").code).toBe("engine_unavailable");
  });
});
