import { type FieldError, SwitchyardError } from "../core/errors.js";

/** The resource kinds a scope's glob can name (API.md "Access control"). */
export type ScopeKind = "manage" | "schemas" | "publish" | "read" | "consume";

export const SCOPE_KINDS: readonly ScopeKind[] = [
  "manage",
  "schemas",
  "publish",
  "read",
  "consume",
];

/** One thing a request needs: `admin`, `metrics`, or a kind on a named resource. */
export type Need =
  | { readonly kind: "admin" }
  | { readonly kind: "metrics" }
  | { readonly kind: ScopeKind; readonly name: string };

/** Router-owned topics: no glob reaches them unless it spells the prefix out. */
const ROUTER_PREFIX = "switchyard.";

// Topic and subscription names plus `*`; event types (schemas) allow any visible ASCII.
const NAME_GLOB = /^[a-zA-Z0-9._*-]{1,200}$/;
const TYPE_GLOB = /^[!-~]{1,256}$/;
const MAX_SCOPES = 100;

/** `*` stands for any run of characters, dots included; everything else is literal. */
function globRegex(glob: string): RegExp {
  const body = glob
    .split("*")
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${body}$`);
}

interface CompiledGlob {
  readonly regex: RegExp;
  readonly spellsRouterPrefix: boolean;
}

/**
 * The scopes of one key, compiled once so that a request's check is a few regex tests.
 * `describe` renders a need as the scope that would grant it, for 403 details.
 */
export class Grants {
  readonly scopes: readonly string[];
  readonly admin: boolean;
  readonly metrics: boolean;
  readonly #globs: ReadonlyMap<ScopeKind, readonly CompiledGlob[]>;

  constructor(scopes: readonly string[]) {
    this.scopes = scopes;
    const globs = new Map<ScopeKind, CompiledGlob[]>();
    let admin = false;
    let metrics = false;
    for (const scope of scopes) {
      if (scope === "admin") admin = true;
      else if (scope === "metrics") metrics = true;
      else {
        const colon = scope.indexOf(":");
        const kind = scope.slice(0, colon) as ScopeKind;
        const glob = scope.slice(colon + 1);
        const list = globs.get(kind) ?? [];
        list.push({ regex: globRegex(glob), spellsRouterPrefix: glob.startsWith(ROUTER_PREFIX) });
        globs.set(kind, list);
      }
    }
    this.admin = admin;
    this.metrics = metrics;
    this.#globs = globs;
  }

  allows(need: Need): boolean {
    if (this.admin) return true;
    if (need.kind === "admin") return false;
    if (need.kind === "metrics") return this.metrics;
    const routerOwned = need.kind !== "schemas" && need.name.startsWith(ROUTER_PREFIX);
    // Only admin manages router-owned topics: no glob grants it.
    if (routerOwned && need.kind === "manage") return false;
    for (const glob of this.#globs.get(need.kind) ?? [])
      if ((!routerOwned || glob.spellsRouterPrefix) && glob.regex.test(need.name)) return true;
    return false;
  }

  /** True when every need holds. */
  allowsAll(needs: readonly Need[]): boolean {
    return needs.every((need) => this.allows(need));
  }
}

/** The scope that would grant `need`, e.g. `read:orders`. */
export function describeNeed(need: Need): string {
  return need.kind === "admin" || need.kind === "metrics" ? need.kind : `${need.kind}:${need.name}`;
}

function scopeProblem(scope: unknown): string | undefined {
  if (typeof scope !== "string") return "must be a string";
  if (scope === "admin" || scope === "metrics") return undefined;
  const colon = scope.indexOf(":");
  const kind = scope.slice(0, colon);
  if (colon === -1 || !(SCOPE_KINDS as readonly string[]).includes(kind))
    return "must be admin, metrics, or manage:|schemas:|publish:|read:|consume: followed by a glob";
  const glob = scope.slice(colon + 1);
  const pattern = kind === "schemas" ? TYPE_GLOB : NAME_GLOB;
  if (!pattern.test(glob))
    return kind === "schemas"
      ? "the glob must be 1-256 visible ASCII characters"
      : "the glob must match [a-zA-Z0-9._*-]{1,200}";
  return undefined;
}

/** Validates a key's scopes (400 `invalid_request` pointing at each bad one). */
export function parseScopes(input: unknown, pointer = "/scopes"): string[] {
  if (!Array.isArray(input) || input.length === 0 || input.length > MAX_SCOPES)
    throw new SwitchyardError("invalid_request", "a key needs a list of scopes", {
      errors: [{ pointer, message: `must be an array of 1 to ${MAX_SCOPES} scopes` }],
    });
  const errors: FieldError[] = [];
  input.forEach((scope: unknown, index) => {
    const message = scopeProblem(scope);
    if (message !== undefined) errors.push({ pointer: `${pointer}/${index}`, message });
  });
  if (errors.length > 0)
    throw new SwitchyardError("invalid_request", "some scopes are not in the closed list", {
      errors,
    });
  return [...new Set(input as string[])];
}
