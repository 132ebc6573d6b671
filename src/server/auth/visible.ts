import type { Principal } from "../../broker/keys.js";
import type { ScopeKind } from "../../broker/scopes.js";

/** A topic shows in lists to keys that may read, publish to or manage it. */
export const TOPIC_VIEWERS: readonly ScopeKind[] = ["read", "publish", "manage"];
/** A subscription's config shows to keys that may manage or consume it. */
export const SUBSCRIPTION_VIEWERS: readonly ScopeKind[] = ["manage", "consume"];

/** The items of a list the key may see (all of them without auth). */
export function visible<T extends { readonly name: string }>(
  principal: Principal | null,
  items: readonly T[],
  kinds: readonly ScopeKind[],
): readonly T[] {
  if (principal === null || principal.grants.admin) return items;
  const grants = principal.grants;
  return items.filter((item) => kinds.some((kind) => grants.allows({ kind, name: item.name })));
}

/** Without auth everything may be managed. */
export function mayManage(principal: Principal | null, name: string): boolean {
  return principal === null || principal.grants.allows({ kind: "manage", name });
}
