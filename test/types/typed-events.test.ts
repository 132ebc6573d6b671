/**
 * Typed events, checked by the TypeScript compiler itself: `generateEventTypes` writes
 * `events.ts` for two registered types, then small programs that use it with
 * `createClient<EventMap>()` are compiled with `tsc --noEmit` under the repository's strict
 * options. The correct one must compile (the generated file with it); each wrong one must
 * fail with the compiler's message for its mistake, on its line.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateEventTypes } from "../../src/cli/codegen/event-types.js";
import { type Compiled, compileFiles, prepareProject } from "../support/tsc.js";

const SCHEMAS = [
  {
    type: "order.placed",
    version: 2,
    schema: {
      type: "object",
      required: ["id", "total"],
      additionalProperties: false,
      properties: {
        id: { type: "string" },
        total: { type: "number" },
        currency: { enum: ["EUR", "USD"] },
      },
    },
  },
  {
    type: "user.created",
    version: 1,
    schema: {
      type: "object",
      required: ["name"],
      properties: { name: { type: "string" }, email: { type: "string" } },
    },
  },
];

const HEADER = `import { createClient, type DeliveryOf } from "switchyard/client";
import type { EventMap, OrderPlaced } from "./events.js";
const client = createClient<EventMap>({ url: "http://127.0.0.1:8420" });
`;

const CORRECT = `${HEADER}
const order: OrderPlaced = { id: "o-1", total: 12.5, currency: "EUR" };
await client.publish("orders", { type: "order.placed", data: order, subject: "o-1" });
await client.publish("orders", [
  { type: "order.placed", data: { id: "o-2", total: 3 } },
  { type: "user.created", data: { name: "Ada", anything: "open schemas allow more" } },
]);
client.subscribe("billing", async (delivery) => {
  const { event } = delivery;
  switch (event.type) {
    case "order.placed": {
      const total: number = event.data.total;
      const currency: "EUR" | "USD" | undefined = event.data.currency;
      await delivery.publish("users", { type: "user.created", data: { name: String(total + (currency ?? "")) } });
      break;
    }
    case "user.created": {
      const name: string = event.data.name;
      void name;
    }
  }
});
const handle = (delivery: DeliveryOf<EventMap>): string => delivery.event.type;
client.subscribe("audit", handle, { concurrency: 1 });

// Without a map the client is untyped, as before.
const untyped = createClient({ url: "http://127.0.0.1:8420" });
await untyped.publish<{ n: number }>("t", { type: "anything", data: { n: 1 } });
untyped.subscribe<number>("s", (delivery) => delivery.event.data + 1);
`;

/** A wrong program: the one line after the header, and the message tsc must give for it. */
interface Mistake {
  readonly name: string;
  readonly body: string;
  readonly message: string;
}

const MISTAKES: readonly Mistake[] = [
  {
    name: "a misspelt field of a closed type",
    body: `await client.publish("orders", { type: "order.placed", data: { id: "o-1", totl: 12.5 } });`,
    message: "'totl' does not exist in type 'OrderPlaced'",
  },
  {
    name: "a field of the wrong type",
    body: `await client.publish("orders", { type: "order.placed", data: { id: "o-1", total: "12.5" } });`,
    message: "Type 'string' is not assignable to type 'number'",
  },
  {
    name: "a required field left out",
    body: `await client.publish("users", { type: "user.created", data: { email: "a@b.c" } });`,
    message: "Property 'name' is missing",
  },
  {
    name: "a type the registry does not have",
    body: `await client.publish("orders", { type: "order.shipped", data: { id: "o-1", total: 1 } });`,
    message: `Type '"order.shipped"' is not assignable to type`,
  },
  {
    name: "a field of another type after narrowing",
    body: `client.subscribe("s", (d) => { if (d.event.type === "user.created") { const t: number = d.event.data.total; void t; } });`,
    message: "Type 'unknown' is not assignable to type 'number'",
  },
  {
    name: "a field of a closed type that is not there",
    body: `client.subscribe("s", (d) => { if (d.event.type === "order.placed") void d.event.data.name; });`,
    message: "Property 'name' does not exist on type 'OrderPlaced'",
  },
];

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "switchyard-typed-events-"));
  const source = await generateEventTypes(SCHEMAS, { registry: "http://127.0.0.1:8420" });
  await writeFile(join(dir, "events.ts"), source);
  await prepareProject(dir);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Compiles `events.ts` with `file`, which holds `source`. */
async function compile(file: string, source: string): Promise<Compiled> {
  await writeFile(join(dir, file), source);
  return compileFiles(dir, file, ["events.ts", file]);
}

describe("typed events under tsc", () => {
  it("compiles the generated file and a program that uses it correctly", async () => {
    const { code, output } = await compile("correct.ts", CORRECT);
    expect(output).toBe("");
    expect(code).toBe(0);
  });

  it.each(MISTAKES)("refuses $name", async ({ name, body, message }) => {
    const file = `${name.replaceAll(" ", "-")}.ts`;
    const { code, output, errors } = await compile(file, `${HEADER}${body}\n`);
    expect(code).not.toBe(0);
    // One error, at the mistake's line (the header's three lines come first), saying what it is.
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`${file}(4,`);
    expect(output).toContain(message);
  });
});
