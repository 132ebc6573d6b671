/**
 * `switchyard schema …` and `switchyard codegen` as users run them (bin/switchyard.js, the
 * built dist/): against a real router for the registry's commands, and against a folder of
 * schema files with no router at all for the offline check a CI job runs.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../src/client/index.js";
import { type CliRun, runCli } from "../support/cli-run.js";
import { type RouterProcess, startRouterProcess } from "../support/router-process.js";
import { compileFiles, prepareProject } from "../support/tsc.js";

const work = mkdtempSync(join(tmpdir(), "switchyard-schema-cli-"));

function cli(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runCli(args, { cwd: work, env });
}

const V1 = {
  type: "object",
  required: ["id", "total"],
  additionalProperties: false,
  properties: { id: { type: "string" }, total: { type: "integer" } },
};
// BACKWARD-compatible with V1: a wider type and a new optional property in a closed model.
const V2 = {
  type: "object",
  required: ["id", "total"],
  additionalProperties: false,
  properties: { id: { type: "string" }, total: { type: "number" }, note: { type: "string" } },
};
// Not: a new required property.
const V3_BREAKING = {
  ...V2,
  required: ["id", "total", "currency"],
  properties: { ...V2.properties, currency: { type: "string" } },
};

function schemaFile(name: string, schema: unknown): string {
  const path = join(work, name);
  writeFileSync(path, JSON.stringify(schema));
  return path;
}

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("switchyard schema against a router", () => {
  let router: RouterProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    router = await startRouterProcess({ dataDir: join(work, "router") });
    env = { SWITCHYARD_URL: router.url };
  });

  afterAll(async () => {
    await router?.stop();
  });

  it("adds a version, then says unchanged for the same schema", async () => {
    const file = schemaFile("v1.json", V1);
    const first = await cli(["schema", "add", "order.placed", file], env);
    expect(first).toMatchObject({ code: 0, stdout: "registered order.placed version 1\n" });
    const again = await cli(["schema", "add", "order.placed", file], env);
    expect(again).toMatchObject({
      code: 0,
      stdout: "order.placed unchanged: the schema equals version 1\n",
    });
    const check = await cli(["schema", "check", "order.placed", file], env);
    expect(check).toMatchObject({
      code: 0,
      stdout: `unchanged: ${file} equals order.placed version 1 (adding it would store nothing)\n`,
    });
  });

  it("checks an incompatible schema: exit 1, the pointer and what breaks", async () => {
    const file = schemaFile("v3.json", V3_BREAKING);
    const run = await cli(["schema", "check", "order.placed", file], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    const [line, ...reasons] = run.stderr.trimEnd().split("\n");
    expect(line).toMatch(
      /^error: .*v3\.json breaks order\.placed's BACKWARD .*\(schema_incompatible\)/,
    );
    expect(reasons).toEqual([
      "  /required/2: new required property 'currency': events valid under version 1 lack it",
    ]);
    const add = await cli(["schema", "add", "order.placed", file], env);
    expect(add.code).toBe(1);
    expect(add.stderr).toContain("(schema_incompatible)");
    expect(add.stderr).toContain("\n  /required/2: new required property 'currency'");
  });

  it("checks and adds a compatible schema", async () => {
    const file = schemaFile("v2.json", V2);
    const check = await cli(["schema", "check", "order.placed", file], env);
    expect(check.code).toBe(0);
    expect(check.stdout).toBe(
      `compatible: ${file} as order.placed version 2 (BACKWARD, after version 1)\n`,
    );
    const add = await cli(["schema", "add", "order.placed", file, "--json"], env);
    expect(JSON.parse(add.stdout)).toEqual({ type: "order.placed", version: 2, created: true });
  });

  it("diffs two versions with the verdict between them", async () => {
    const run = await cli(["schema", "diff", "order.placed", "1", "2"], env);
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")).toEqual([
      "order.placed version 1 → version 2: 2 changes",
      '~ /properties/total/type  "integer" → "number"',
      '+ /properties/note        {"type":"string"}',
      "BACKWARD: compatible",
      "",
    ]);
    const forward = await cli(
      ["schema", "diff", "order.placed", "1", "2", "--compatibility", "FORWARD", "--json"],
      env,
    );
    const answer = JSON.parse(forward.stdout);
    expect(answer).toMatchObject({ from: 1, to: 2, compatibility: "FORWARD", compatible: false });
    expect(answer.errors.map((e: { pointer: string }) => e.pointer)).toContain(
      "/properties/total/type",
    );
  });

  it("lists types and sets a type's mode", async () => {
    const config = await cli(["schema", "config", "order.placed", "full"], env);
    expect(config).toMatchObject({ code: 0, stdout: "order.placed: compatibility FULL\n" });
    const list = await cli(["schema", "list"], env);
    expect(list.stdout.split("\n").slice(0, 2)).toEqual([
      "TYPE          LATEST  COMPATIBILITY",
      "order.placed       2  FULL",
    ]);
    await cli(["schema", "config", "order.placed", "BACKWARD"], env);
    const json = await cli(["schemas", "list", "--json"], env);
    expect(JSON.parse(json.stdout)).toEqual([
      { type: "order.placed", latest: 2, compatibility: "BACKWARD" },
    ]);
  });

  it("names an unknown type or version in one line", async () => {
    const run = await cli(["schema", "diff", "order.placed", "1", "9"], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: .*\(schema_not_found\) — .*\n$/);
  });

  it("pulls the registry into a folder the offline check reads", async () => {
    const dir = join(work, "pulled");
    const pull = await cli(["schema", "pull", dir], env);
    expect(pull).toMatchObject({
      code: 0,
      stdout: `wrote 1 types, 2 versions (2 new) to ${dir}\n`,
    });
    expect(JSON.parse(readFileSync(join(dir, "order.placed/2.json"), "utf8"))).toEqual(V2);
    expect(JSON.parse(readFileSync(join(dir, "order.placed/config.json"), "utf8"))).toEqual({
      compatibility: "BACKWARD",
    });
    const breaking = schemaFile("v3-offline.json", V3_BREAKING);
    const check = await cli(["schema", "check", "order.placed", breaking, "--dir", dir]);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain("\n  /required/2: new required property 'currency'");
  });

  it("generates types that compile and catch a wrong field", async () => {
    const project = join(work, "project");
    mkdirSync(project);
    await prepareProject(project);
    const out = join(project, "events.ts");
    const run = await cli(["codegen", "--out", out], env);
    expect(run).toMatchObject({ code: 0, stdout: `wrote ${out}: 1 types (order.placed v2)\n` });
    const text = readFileSync(out, "utf8");
    expect(text).toContain(`Registry: ${router.url}`);
    expect(text).toContain("order.placed version 2");
    const use = (data: string) =>
      `import { createClient } from "switchyard/client";
import type { EventMap } from "./events.js";
const client = createClient<EventMap>({ url: "${router.url}" });
await client.publish("orders", { type: "order.placed", data: ${data} });
`;
    writeFileSync(join(project, "good.ts"), use(`{ id: "o-1", total: 12.5, note: "gift" }`));
    writeFileSync(join(project, "bad.ts"), use(`{ id: "o-1", totl: 12.5 }`));
    const good = await compileFiles(project, "good", ["events.ts", "good.ts"]);
    expect(good.output).toBe("");
    const bad = await compileFiles(project, "bad", ["events.ts", "bad.ts"]);
    expect(bad.code).not.toBe(0);
    expect(bad.output).toContain("'totl' does not exist in type 'OrderPlaced'");
  });

  it("infers a schema from a topic's events, registering nothing", async () => {
    const client = createClient({ url: router.url });
    try {
      await client.admin.topics.put("shipments");
      await client.publish("shipments", [
        { type: "shipment.sent", data: { id: "s-1", weight: 2 } },
        { type: "shipment.sent", data: { id: "s-2", weight: 3.5, carrier: "dhl" } },
        { type: "shipment.lost", data: { id: "s-3" } },
      ]);
    } finally {
      await client.close();
    }
    const one = await cli(["schema", "infer", "shipments", "--type", "shipment.sent"], env);
    expect(one.code).toBe(0);
    const proposed = JSON.parse(one.stdout);
    expect(proposed).toMatchObject({
      type: "object",
      required: ["id", "weight"],
      properties: { id: { type: "string" }, carrier: { type: "string" } },
    });
    expect(one.stderr).toContain("shipment.sent: proposed from 2 events in shipments");
    expect(one.stderr).toContain("nothing was registered");
    const every = await cli(["schema", "infer", "shipments", "--limit", "10"], env);
    expect(Object.keys(JSON.parse(every.stdout))).toEqual(["shipment.lost", "shipment.sent"]);
    const list = await cli(["schema", "list", "--json"], env);
    expect(JSON.parse(list.stdout).map((s: { type: string }) => s.type)).toEqual(["order.placed"]);
    // The proposal registers as it is.
    const file = schemaFile("proposed.json", proposed);
    const add = await cli(["schema", "add", "shipment.sent", file], env);
    expect(add).toMatchObject({ code: 0, stdout: "registered shipment.sent version 1\n" });
  });

  it("refuses codegen for a type the registry does not have", async () => {
    const out = join(work, "none.ts");
    const run = await cli(["codegen", "--out", out, "--types", "order.placed,nope"], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/\(schema_not_found\)/);
    expect(() => readFileSync(out)).toThrow();
  });
});

describe("switchyard schema check --dir, without a router", () => {
  const dir = join(work, "schemas");
  // No router listens here: a command that tried to reach one would fail `unreachable`.
  const env = { SWITCHYARD_URL: "http://127.0.0.1:9" };

  beforeAll(() => {
    mkdirSync(join(dir, "order.placed"), { recursive: true });
    writeFileSync(join(dir, "order.placed/1.json"), JSON.stringify(V1));
    writeFileSync(join(dir, "order.placed/2.json"), JSON.stringify(V2));
  });

  it("passes a compatible file and fails a breaking one with the pointer", async () => {
    const good = schemaFile("offline-good.json", {
      ...V2,
      properties: { ...V2.properties, gift: { type: "boolean" } },
    });
    expect(await cli(["schema", "check", "order.placed", good, "--dir", dir], env)).toMatchObject({
      code: 0,
      stdout: `compatible: ${good} as order.placed version 3 (BACKWARD, after version 2)\n`,
    });
    const bad = schemaFile("offline-bad.json", V3_BREAKING);
    const run = await cli(["schema", "check", "order.placed", bad, "--dir", dir], env);
    expect(run.code).toBe(1);
    expect(run.stderr.split("\n").slice(1)).toEqual([
      "  /required/2: new required property 'currency': events valid under version 2 lack it",
      "",
    ]);
  });

  it("says unchanged for a file equal to the folder's latest version", async () => {
    const file = schemaFile("offline-same.json", V2);
    const run = await cli(["schema", "check", "order.placed", file, "--dir", dir], env);
    expect(run).toMatchObject({
      code: 0,
      stdout: `unchanged: ${file} equals order.placed version 2 (adding it would store nothing)\n`,
    });
  });

  it("checks a version file in place against the versions before it", async () => {
    const file = join(dir, "order.placed/2.json");
    const run = await cli(["schema", "check", "order.placed", file, "--dir", dir], env);
    expect(run).toMatchObject({
      code: 0,
      stdout: `compatible: ${file} as order.placed version 2 (BACKWARD, after version 1)\n`,
    });
  });

  it("takes the mode from --compatibility, else config.json", async () => {
    const file = join(dir, "order.placed/2.json");
    const forward = await cli(
      ["schema", "check", "order.placed", file, "--dir", dir, "--compatibility", "forward"],
      env,
    );
    expect(forward.code).toBe(1);
    expect(forward.stderr).toContain("order.placed's FORWARD compatibility");
    writeFileSync(join(dir, "order.placed/config.json"), JSON.stringify({ compatibility: "FULL" }));
    try {
      const full = await cli(["schema", "check", "order.placed", file, "--dir", dir], env);
      expect(full.code).toBe(1);
      expect(full.stderr).toContain("order.placed's FULL compatibility");
    } finally {
      rmSync(join(dir, "order.placed/config.json"));
    }
  });

  it("accepts any first version of a type the folder does not have", async () => {
    const file = schemaFile("new-type.json", V3_BREAKING);
    const run = await cli(["schema", "check", "invoice.sent", file, "--dir", dir], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^compatible: invoice\.sent has no version yet/);
  });

  it("diffs two version files", async () => {
    const run = await cli(["schema", "diff", "order.placed", "1", "2", "--dir", dir], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('~ /properties/total/type  "integer" → "number"');
    expect(run.stdout).toContain("BACKWARD: compatible");
  });

  it("diffs later versions, naming them in the reasons", async () => {
    mkdirSync(join(dir, "invoice.paid"));
    for (const [n, schema] of [V1, V2, V3_BREAKING].entries())
      writeFileSync(join(dir, `invoice.paid/${n + 1}.json`), JSON.stringify(schema));
    const run = await cli(["schema", "diff", "invoice.paid", "2", "3", "--dir", dir], env);
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n").slice(-3)).toEqual([
      "BACKWARD: incompatible",
      "  /required/2: new required property 'currency': events valid under version 2 lack it",
      "",
    ]);
  });

  it("refuses a folder with a version missing", async () => {
    mkdirSync(join(dir, "gappy"));
    writeFileSync(join(dir, "gappy/2.json"), JSON.stringify(V1));
    const run = await cli(
      ["schema", "check", "gappy", join(dir, "gappy/2.json"), "--dir", dir],
      env,
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("holds versions 2: version 1 is missing (usage)");
  });

  it("refuses an invalid schema with its pointers (exit 1)", async () => {
    const file = schemaFile("invalid.json", { type: "object", properties: { id: { type: 7 } } });
    const run = await cli(["schema", "check", "order.placed", file, "--dir", dir], env);
    expect(run.code).toBe(1);
    const [line, ...reasons] = run.stderr.trimEnd().split("\n");
    expect(line).toMatch(/^error: .*invalid\.json is not a valid schema \(invalid_schema\)/);
    expect(reasons.length).toBeGreaterThan(0);
    expect(reasons[0]).toMatch(/^ {2}\/properties\/id\/type: /);
  });

  it("refuses bad command lines with exit 2", async () => {
    const file = join(dir, "order.placed/2.json");
    const cases: readonly (readonly string[])[] = [
      ["schema", "check", "order.placed", file, "--dir", join(work, "missing")],
      ["schema", "check", "order.placed", file, "--dir", dir, "--compatibility", "SIDEWAYS"],
      ["schema", "check", "order placed", file, "--dir", dir],
      ["schema", "check", "order.placed", join(work, "missing.json"), "--dir", dir],
      ["schema", "check", "order.placed", file, "--compatibility", "FULL"],
      ["schema", "diff", "order.placed", "1", "zero", "--dir", dir],
      ["schema", "diff", "order.placed", "1", "7", "--dir", dir],
      ["schema", "config", "order.placed", "SIDEWAYS"],
      ["schema", "infer", "orders", "--limit", "0"],
      ["codegen", "--out", join(work, "x.ts"), "--types", ","],
    ];
    for (const args of cases) {
      const run = await cli(args, env);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toMatch(/^error: .* \(usage\) — .*\n$/);
    }
  });
});
