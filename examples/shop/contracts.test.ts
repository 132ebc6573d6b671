/**
 * The schema folder is a registry's history: every version valid, each one BACKWARD
 * compatible with the versions before it, every object closed (so adding an optional field
 * stays compatible and a misspelt one is a compile error in the generated types). Checked
 * with the registry's own code, offline, as `switchyard schema check --dir` does in CI.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { checkSchemaChange, validateSchema } from "switchyard";
import type { JsonSchema } from "switchyard/client";
import { describe, expect, it } from "vitest";
import { readSchemas, SCHEMAS_DIR } from "./contracts.ts";

const CLI = join(import.meta.dirname, "../../bin/switchyard.js");

/** Pointers of every object schema (`type: "object"` or with `properties`) that is not closed. */
function openObjects(schema: unknown, pointer = ""): string[] {
  if (typeof schema !== "object" || schema === null) return [];
  const node = schema as Record<string, unknown>;
  const isObject = node.type === "object" || "properties" in node;
  const open = isObject && node.additionalProperties !== false ? [pointer] : [];
  return [
    ...open,
    ...Object.entries(node).flatMap(([key, child]) =>
      typeof child === "object" ? openObjects(child, `${pointer}/${key}`) : [],
    ),
  ];
}

describe("the shop's schemas", () => {
  const schemas = readSchemas();

  it("are one folder per event type the services publish", () => {
    expect([...schemas.keys()]).toEqual([
      "NotificationRequested",
      "OrderCancelled",
      "OrderPaid",
      "OrderPlaced",
      "OrderShipped",
      "OutOfStock",
      "PaymentReminderDue",
      "SmsSent",
      "StockReserved",
    ]);
    expect(schemas.get("OrderPlaced")).toHaveLength(2);
  });

  it("are valid, closed at every level, and each version BACKWARD compatible with the earlier ones", () => {
    for (const [type, versions] of schemas) {
      versions.forEach((schema, i) => {
        const at = `${type}/${i + 1}.json`;
        expect({ at, problems: validateSchema(schema) }).toEqual({ at, problems: [] });
        expect({ at, open: openObjects(schema) }).toEqual({ at, open: [] });
        const earlier: JsonSchema[] = versions.slice(0, i);
        expect({ at, ...checkSchemaChange(earlier, schema, "BACKWARD") }).toEqual({
          at,
          compatible: true,
          errors: [],
        });
      });
    }
  });

  it("pass the CI step the README gives: switchyard schema check --dir, no router", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      CLI,
      "schema",
      "check",
      "OrderPlaced",
      join(SCHEMAS_DIR, "OrderPlaced", "2.json"),
      "--dir",
      SCHEMAS_DIR,
    ]);
    expect(stdout).toContain("as OrderPlaced version 2 (BACKWARD, after version 1)");
  });

  it("refuse, in that step, a next version that adds a required field", async () => {
    const v2 = schemas.get("OrderPlaced")?.[1] as { properties: object; required: string[] };
    const v3 = {
      ...v2,
      properties: { ...v2.properties, currency: { type: "string" } },
      required: [...v2.required, "currency"],
    };
    const scratch = mkdtempSync(join(tmpdir(), "switchyard-shop-schema-"));
    try {
      writeFileSync(join(scratch, "3.json"), JSON.stringify(v3));
      const run = promisify(execFile)(process.execPath, [
        CLI,
        "schema",
        "check",
        "OrderPlaced",
        join(scratch, "3.json"),
        "--dir",
        SCHEMAS_DIR,
      ]);
      await expect(run).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining(
          `/required/${v2.required.length}: new required property 'currency'`,
        ),
      });
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
