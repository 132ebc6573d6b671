/** The calls a subscription's owner serves, as plain JSON so they can cross between nodes. */
import type { StartPosition } from "../../core/positions.js";
import type { RedriveRequest } from "../engine.js";
import type { SettleOp, SubscriptionOwner } from "./subscription-owner.js";

export type OwnerCall =
  | {
      readonly op: "lease";
      readonly max: number;
      readonly waitMs: number;
      readonly leaseMs?: number;
    }
  /** A forwarded lease's caller gave up (`rid` names the lease). */
  | { readonly op: "cancel"; readonly rid: string }
  /** Deliveries a caller received after giving up: hand them out again. */
  | { readonly op: "release"; readonly ackIds: readonly string[] }
  | { readonly op: "settle"; readonly settle: SettleOp; readonly ackIds: readonly string[] }
  | { readonly op: "seek"; readonly to: StartPosition }
  | { readonly op: "redrive"; readonly request: RedriveRequest }
  | { readonly op: "stats" }
  /** The subscription's config changed in the bucket. */
  | { readonly op: "reload" }
  /** The subscription is being deleted. */
  | { readonly op: "drop" };

export async function serveCall(
  owner: SubscriptionOwner,
  call: OwnerCall,
  signal?: AbortSignal,
  budgetBytes?: number,
): Promise<unknown> {
  switch (call.op) {
    case "lease":
      return owner.lease({
        max: call.max,
        waitMs: call.waitMs,
        ...(call.leaseMs === undefined ? {} : { leaseMs: call.leaseMs }),
        ...(signal === undefined ? {} : { signal }),
        ...(budgetBytes === undefined ? {} : { budgetBytes }),
      });
    case "settle":
      return owner.settle(call.settle, call.ackIds);
    case "seek":
      return owner.seek(call.to);
    case "redrive":
      return owner.redrive(call.request);
    case "stats":
      return owner.stats();
    case "reload":
      return owner.reload();
    case "release":
      return owner.release(call.ackIds);
    case "cancel":
    case "drop":
      return null;
  }
}
