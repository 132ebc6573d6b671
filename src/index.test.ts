import { describe, expect, it } from "vitest";
import * as entry from "./index.js";

describe("the package entry", () => {
  it("exports exactly the public runtime surface (a change here must be deliberate)", () => {
    expect(Object.keys(entry).sort()).toEqual([
      "COMPATIBILITY_MODES",
      "DEFAULT_COMPATIBILITY",
      "ERROR_CATALOGUE",
      "StartRefused",
      "SwitchyardError",
      "checkSchemaChange",
      "createKeyInStore",
      "generateApiKey",
      "isSwitchyardError",
      "startRouter",
      "validateSchema",
    ]);
  });
});
