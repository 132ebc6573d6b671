/**
 * The committed types are the schemas' types: `lib/events.generated.ts` must be exactly what
 * `node examples/shop/codegen.ts` writes from `schemas/`, so a schema edited without
 * regenerating (or a hand edit of the generated file) fails here.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GENERATED_FILE, generateShopTypes } from "./codegen.ts";

describe("the shop's generated event types", () => {
  it("are up to date with schemas/ (else run: node examples/shop/codegen.ts)", async () => {
    expect(readFileSync(GENERATED_FILE, "utf8")).toBe(await generateShopTypes());
  });
});
