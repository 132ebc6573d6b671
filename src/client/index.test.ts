import { describe, expect, it } from "vitest";
import * as client from "./index.js";

describe("switchyard/client", () => {
  it("exports exactly these values (a change to the surface must be deliberate)", () => {
    expect(Object.keys(client).sort()).toEqual([
      "Reject",
      "RetryAfter",
      "SwitchyardClientError",
      "SwitchyardError",
      "createClient",
      "createOutbox",
      "inbox",
      "outbox",
      "pgProjectionStore",
      "pgSnapshotStore",
      "projection",
      "sqliteProjectionStore",
      "sqliteSnapshotStore",
      "verifyWebhook",
    ]);
  });
});
