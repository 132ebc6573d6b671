import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as testing from "./index.js";

describe("switchyard/testing", () => {
  it("exports exactly these values (a change to the surface must be deliberate)", () => {
    expect(Object.keys(testing).sort()).toEqual(["ManualClock", "createTestRouter", "waitFor"]);
  });

  it("is a subpath of the package, built beside the others", () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "../../package.json"), "utf8"));
    expect(pkg.exports["./testing"]).toEqual({
      types: "./dist/testing/index.d.ts",
      default: "./dist/testing/index.js",
    });
  });
});
