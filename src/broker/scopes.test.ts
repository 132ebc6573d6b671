import { describe, expect, it } from "vitest";
import { isSwitchyardError } from "../core/errors.js";
import { describeNeed, Grants, parseScopes } from "./scopes.js";

function pointersOf(input: unknown): string[] {
  try {
    parseScopes(input);
  } catch (error) {
    if (isSwitchyardError(error) && error.code === "invalid_request")
      return error.errors.map((e) => e.pointer);
    throw error;
  }
  return [];
}

describe("scope parsing", () => {
  it("accepts the closed list and drops duplicates", () => {
    expect(
      parseScopes([
        "admin",
        "metrics",
        "manage:orders.*",
        "schemas:com.example/*",
        "read:*",
        "read:*",
      ]),
    ).toEqual(["admin", "metrics", "manage:orders.*", "schemas:com.example/*", "read:*"]);
  });

  it("points at each scope outside the closed list", () => {
    expect(pointersOf(["read:a", "publish:b", "write:c", "consume:", "manage:a b", 7])).toEqual([
      "/scopes/2",
      "/scopes/3",
      "/scopes/4",
      "/scopes/5",
    ]);
    expect(pointersOf([])).toEqual(["/scopes"]);
    expect(pointersOf("admin")).toEqual(["/scopes"]);
  });
});

describe("grants", () => {
  it("`*` matches any run of characters, dots included", () => {
    const g = new Grants(["read:orders.*", "publish:*.eu", "consume:billing-*"]);
    expect(g.allows({ kind: "read", name: "orders.eu.placed" })).toBe(true);
    expect(g.allows({ kind: "read", name: "orders" })).toBe(false);
    expect(g.allows({ kind: "read", name: "ordersX" })).toBe(false);
    expect(g.allows({ kind: "publish", name: "a.b.eu" })).toBe(true);
    expect(g.allows({ kind: "publish", name: "a.b.us" })).toBe(false);
    expect(g.allows({ kind: "consume", name: "billing-worker" })).toBe(true);
    expect(g.allows({ kind: "manage", name: "orders.x" })).toBe(false);
    expect(g.allows({ kind: "metrics" })).toBe(false);
    expect(g.allows({ kind: "admin" })).toBe(false);
  });

  it("dots in a glob are literal", () => {
    const g = new Grants(["read:a.b"]);
    expect(g.allows({ kind: "read", name: "a.b" })).toBe(true);
    expect(g.allows({ kind: "read", name: "aXb" })).toBe(false);
  });

  it("no glob reaches switchyard.* unless it spells the prefix, and only admin manages them", () => {
    const g = new Grants(["read:*", "publish:*", "manage:*"]);
    expect(g.allows({ kind: "read", name: "switchyard.audit" })).toBe(false);
    expect(g.allows({ kind: "manage", name: "switchyard.audit" })).toBe(false);
    const spelled = new Grants(["read:switchyard.*", "manage:switchyard.*"]);
    expect(spelled.allows({ kind: "read", name: "switchyard.audit" })).toBe(true);
    expect(spelled.allows({ kind: "manage", name: "switchyard.audit" })).toBe(false);
    expect(new Grants(["admin"]).allows({ kind: "manage", name: "switchyard.audit" })).toBe(true);
  });

  it("admin allows everything; metrics only metrics", () => {
    const admin = new Grants(["admin"]);
    expect(admin.allows({ kind: "consume", name: "x" })).toBe(true);
    expect(admin.allows({ kind: "admin" })).toBe(true);
    const metrics = new Grants(["metrics"]);
    expect(metrics.allows({ kind: "metrics" })).toBe(true);
    expect(metrics.allows({ kind: "read", name: "x" })).toBe(false);
  });

  it("names the scope that would grant a need", () => {
    expect(describeNeed({ kind: "read", name: "orders" })).toBe("read:orders");
    expect(describeNeed({ kind: "admin" })).toBe("admin");
  });
});
