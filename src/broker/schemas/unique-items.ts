import type { Ajv2020, KeywordCxt, KeywordDefinition } from "ajv/dist/2020.js";
import { _, str } from "ajv/dist/2020.js";

/**
 * `uniqueItems` in linear time. Ajv compares every pair of items unless the schema declares
 * a scalar item type: 20,000 small objects take 15 s, and an event's data is the
 * producer's to choose, so one publish could stall the router for minutes. Here each item
 * gets a canonical JSON key (object members sorted), which is equal exactly when the items
 * are equal as JSON Schema defines it; one pass with a set finds the first repeat. Same
 * answers and error messages as Ajv.
 */

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(record[key])}`);
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(value);
}

/** `[earlier, later]` indexes of the first repeated item, or undefined when all differ. */
export function firstDuplicate(items: readonly unknown[]): readonly [number, number] | undefined {
  // Scalars key themselves (1 and 1.0 are one number); objects and arrays by canonical text,
  // in a map of their own so a string never meets an object's text.
  const scalars = new Map<unknown, number>();
  const structured = new Map<string, number>();
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const isStructured = typeof item === "object" && item !== null;
    const key = isStructured ? canonical(item) : item;
    const seen = isStructured ? structured.get(key as string) : scalars.get(key);
    if (seen !== undefined) return [seen, i];
    if (isStructured) structured.set(key as string, i);
    else scalars.set(key, i);
  }
  return undefined;
}

const uniqueItems: KeywordDefinition = {
  keyword: "uniqueItems",
  type: "array",
  schemaType: "boolean",
  error: {
    message: ({ params: { i, j } }) =>
      str`must NOT have duplicate items (items ## ${j} and ${i} are identical)`,
    params: ({ params: { i, j } }) => _`{i: ${i}, j: ${j}}`,
  },
  code(cxt: KeywordCxt) {
    if (cxt.schema !== true) return;
    const { gen, data } = cxt;
    const find = gen.scopeValue("func", { ref: firstDuplicate, code: _`firstDuplicate` });
    const dup = gen.const("dup", _`${find}(${data})`);
    gen.if(_`${dup} !== undefined`, () => {
      cxt.setParams({ i: _`${dup}[1]`, j: _`${dup}[0]` });
      cxt.error();
    });
  },
};

/** Replaces Ajv's `uniqueItems` on `ajv`. */
export function useLinearUniqueItems(ajv: Ajv2020): void {
  ajv.removeKeyword("uniqueItems");
  ajv.addKeyword(uniqueItems);
}
