import { describe, expect, it } from "vitest";
import { systemClock } from "../core/clock.js";
import { SwitchyardError } from "../core/errors.js";
import { prepareEvents } from "./publish.js";
import { defaultTopicConfig } from "./topic-config.js";

/** Nesting JSON.parse accepts but JSON.stringify cannot recurse through. */
function deep(depth: number): unknown {
  return JSON.parse(`${"[".repeat(depth)}${"]".repeat(depth)}`);
}

function event(data: unknown): Record<string, unknown> {
  return { specversion: "1.0", id: "e1", source: "/t", type: "t.happened", data };
}

describe("prepareEvents", () => {
  // Found by the API fuzzer: this was a 500 `internal` (a stack overflow in JSON.stringify).
  it("rejects data nested too deeply to store as invalid_event at its data", () => {
    const topic = defaultTopicConfig("t");
    let caught: unknown;
    try {
      prepareEvents([event({ ok: 1 }), event(deep(200_000))], true, topic, systemClock);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SwitchyardError);
    const error = caught as SwitchyardError;
    expect(error.code).toBe("invalid_event");
    expect(error.errors).toEqual([{ pointer: "/1/data", message: "nests too deeply to store" }]);
  });

  it("stores ordinary nesting", () => {
    const topic = defaultTopicConfig("t");
    const { events } = prepareEvents([event(deep(100))], false, topic, systemClock);
    expect(events).toHaveLength(1);
  });
});
