import { child, isObject, patternMatches } from "./json.js";
import { at, keywords, type Node } from "./nodes.js";

/**
 * The subschemas that apply to the value of property `name` in one object schema: its
 * `properties` entry and every matching `patternProperties` entry ("listed"), else
 * `additionalProperties` ("additional"), else nothing ("open"). `unknown` when some pattern
 * does not compile here, so the split between listed and additional is not known.
 */
export interface PropertySchemas {
  readonly nodes: readonly Node[];
  readonly via: "listed" | "additional" | "open";
  readonly unknown: boolean;
}

export function propertyNodes(node: Node, name: string): PropertySchemas {
  const s = keywords(node);
  const listed: Node[] = [];
  if (isObject(s.properties) && Object.hasOwn(s.properties, name)) {
    listed.push(at(node, s.properties[name], child(node.ptr, "properties", name)));
  }
  let unknown = false;
  const patterns = isObject(s.patternProperties) ? s.patternProperties : {};
  for (const [pattern, sub] of Object.entries(patterns)) {
    const matches = patternMatches(pattern, name);
    if (matches === undefined) unknown = true;
    else if (matches) listed.push(at(node, sub, child(node.ptr, "patternProperties", pattern)));
  }
  if (listed.length > 0) return { nodes: listed, via: "listed", unknown };
  if ("additionalProperties" in s) {
    const ap = at(node, s.additionalProperties, child(node.ptr, "additionalProperties"));
    return { nodes: [ap], via: "additional", unknown };
  }
  return { nodes: [], via: "open", unknown };
}

/**
 * The same, read as the narrower side: when a pattern's match is unknown only what surely
 * applies is kept, which can only accept more.
 */
export function narrowerPropertyNodes(node: Node, name: string): PropertySchemas {
  const found = propertyNodes(node, name);
  if (!found.unknown || found.via === "listed") return found;
  return { nodes: [], via: "open", unknown: true };
}

/** No property outside `properties` is allowed, and the listed ones are counted. */
export function closedCount(node: Node): number {
  const s = keywords(node);
  if (s.additionalProperties !== false) return Number.POSITIVE_INFINITY;
  const patterns = isObject(s.patternProperties) ? Object.values(s.patternProperties) : [];
  if (patterns.some((p) => p !== false)) return Number.POSITIVE_INFINITY;
  const props = isObject(s.properties) ? Object.values(s.properties) : [];
  return props.filter((p) => p !== false).length;
}
