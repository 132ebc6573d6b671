/**
 * The key's scopes, as API.md defines them, so the page shows only what the key may use.
 * The router enforces them anyway: this only spares the user buttons that would answer 403.
 */
export type Kind = "manage" | "schemas" | "publish" | "read" | "consume";

function globMatches(glob: string, name: string): boolean {
  // A glob never matches router-owned `switchyard.*` names unless it spells the prefix out.
  if (name.startsWith("switchyard.") && !glob.startsWith("switchyard.")) return false;
  const pattern = glob
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${pattern}$`).test(name);
}

export class Scopes {
  constructor(private readonly scopes: readonly string[]) {}

  get admin(): boolean {
    return this.scopes.includes("admin");
  }

  get metrics(): boolean {
    return this.admin || this.scopes.includes("metrics");
  }

  may(kind: Kind, name: string): boolean {
    if (this.admin) return true;
    return this.scopes.some((scope) => {
      const at = scope.indexOf(":");
      return at !== -1 && scope.slice(0, at) === kind && globMatches(scope.slice(at + 1), name);
    });
  }
}
