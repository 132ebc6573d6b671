import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CATALOGUE, type ErrorCode } from "../core/errors.js";
import { COMMON_ERRORS, openApiDocument, ROUTING_ERRORS } from "./openapi.js";

// The catalogue, docs/errors.md and the OpenAPI document must list the same codes.

// Codes no route answers by design: the SDK/CLI raise the first two when no usable answer
// arrived; `conflict` is the generic 409 the SDK maps unknown 409s to; the SDK's
// `verifyWebhook` raises `invalid_signature`; `revision_conflict` is the Catalog's
// compare-and-set answer, which routes map to their own codes until one exposes it.
const NOT_FROM_ROUTES: readonly ErrorCode[] = [
  "unreachable",
  "unexpected_response",
  "conflict",
  "invalid_signature",
  "revision_conflict",
];

function documentedCodes(): Map<string, number> {
  const text = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");
  const rows = [...text.matchAll(/^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|/gm)];
  return new Map(rows.map((m) => [m[1] ?? "", Number(m[2])]));
}

type Operation = { "x-error-codes"?: string[]; responses: Record<string, unknown> };

function operations(): Operation[] {
  const doc = openApiDocument("test") as { paths: Record<string, Record<string, Operation>> };
  return Object.values(doc.paths).flatMap((ops) => Object.values(ops));
}

describe("error catalogue sync", () => {
  it("docs/errors.md lists every code with its status, and nothing else", () => {
    const documented = documentedCodes();
    const catalogue = new Map(
      Object.entries(ERROR_CATALOGUE).map(([code, spec]) => [code, spec.status]),
    );
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(catalogue));
  });

  it("the OpenAPI problem schema enumerates exactly the catalogue", () => {
    const doc = openApiDocument("test") as {
      components: { schemas: { Problem: { properties: { code: { enum: string[] } } } } };
    };
    expect([...doc.components.schemas.Problem.properties.code.enum].sort()).toEqual(
      Object.keys(ERROR_CATALOGUE).sort(),
    );
  });

  it("every code an operation names is catalogued, answered with its status, and every server code is used", () => {
    const used = new Set<string>([...COMMON_ERRORS, ...ROUTING_ERRORS, ...NOT_FROM_ROUTES]);
    for (const op of operations())
      for (const code of op["x-error-codes"] ?? []) {
        expect(Object.hasOwn(ERROR_CATALOGUE, code), code).toBe(true);
        expect(Object.keys(op.responses)).toContain(
          String(ERROR_CATALOGUE[code as ErrorCode].status),
        );
        used.add(code);
      }
    const unused = Object.keys(ERROR_CATALOGUE).filter((code) => !used.has(code));
    expect(unused).toEqual([]);
  });
});
