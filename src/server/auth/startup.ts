import type { AuditTrail } from "../../broker/broker.js";
import type { KeyStore } from "../../broker/keys.js";
import { SwitchyardError } from "../../core/errors.js";
import { isLoopbackName } from "../../core/loopback.js";

/** A start-up rule of API.md "Access control" refused the start; `hint` names the fix. */
export class StartRefused extends SwitchyardError {
  readonly hint: string;

  constructor(detail: string, hint: string) {
    super("invalid_request", detail);
    this.name = "StartRefused";
    this.hint = hint;
  }
}

/** Without auth, only a loopback bind: nothing else stands between the network and the router. */
export function checkBind(auth: boolean, host: string): void {
  if (!auth && !isLoopbackName(host))
    throw new StartRefused(
      `refusing to serve ${host} without auth`,
      "bind a loopback address (--host 127.0.0.1), or run with auth (drop --no-auth; set SWITCHYARD_ADMIN_KEY)",
    );
}

/**
 * With auth: registers SWITCHYARD_ADMIN_KEY (compare-and-set, if its id is absent; audited
 * when this start wrote it), and refuses to start when no usable key exists, since nobody
 * could then call the router.
 */
export async function prepareKeys(
  keys: KeyStore,
  adminKey: string | undefined,
  audit: AuditTrail,
): Promise<void> {
  if (adminKey !== undefined) {
    let registered: Awaited<ReturnType<KeyStore["register"]>>;
    try {
      registered = await keys.register(adminKey, "admin (SWITCHYARD_ADMIN_KEY)", ["admin"]);
    } catch (error) {
      if (!(error instanceof SwitchyardError) || error.code === "engine_unavailable") throw error;
      throw new StartRefused(
        `SWITCHYARD_ADMIN_KEY is not usable: ${error.message}`,
        "generate one with `switchyard keys create --admin` or unset SWITCHYARD_ADMIN_KEY and use an existing key",
      );
    }
    if (registered !== "exists")
      await audit.keyCreated(registered.created, null, "SWITCHYARD_ADMIN_KEY");
    return;
  }
  if (!(await keys.anyUsable()))
    throw new StartRefused(
      "no API key exists and SWITCHYARD_ADMIN_KEY is not set",
      "set SWITCHYARD_ADMIN_KEY=sy_… (`switchyard keys create --admin --data DIR` makes one), or pass --no-auth on a loopback bind",
    );
}
