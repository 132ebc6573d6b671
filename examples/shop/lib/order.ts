/**
 * The order aggregate checkout keeps: its state is nothing but the fold of its events
 * (`evolve`), and every change is a command that `decide` turns into new events or refuses.
 * Pure functions, no I/O: the store (lib/order-store.ts) loads the events, runs `decide` on
 * the state they fold to, and appends what it returns at the next versions.
 *
 * Lifecycle: placed → paid → shipped, or placed/paid → cancelled (the compensating event
 * when inventory answers OutOfStock; whatever was paid is refunded). Shipping needs payment.
 * Commands that find their effect already there decide nothing, so a command sent twice (a
 * double click, a redelivered OutOfStock) changes the order once.
 */
import type { EventMap, OrderCancelled, OrderPaid, OrderPlaced, OrderShipped } from "./events.ts";

export type OrderStatus = "none" | "placed" | "paid" | "shipped" | "cancelled";

export interface OrderState {
  readonly status: OrderStatus;
  readonly order?: OrderPlaced;
  readonly paid: number;
}

export const INITIAL_ORDER: OrderState = { status: "none", paid: 0 };

/** An event of the aggregate: its type paired with its data, as the `orders` topic holds it. */
export type OrderEvent =
  | { readonly type: "OrderPlaced"; readonly data: OrderPlaced }
  | { readonly type: "OrderPaid"; readonly data: OrderPaid }
  | { readonly type: "OrderShipped"; readonly data: OrderShipped }
  | { readonly type: "OrderCancelled"; readonly data: OrderCancelled };

export type OrderEventType = OrderEvent["type"] & keyof EventMap;

export type OrderCommand =
  | { readonly type: "place"; readonly order: OrderPlaced }
  | { readonly type: "pay"; readonly at: string }
  | { readonly type: "ship"; readonly shipmentId: string; readonly at: string }
  | { readonly type: "cancel"; readonly skus: [string, ...string[]]; readonly at: string };

/** A command the order's state does not allow: the caller's mistake, answered 409. */
export class OrderRefused extends Error {}

/** A command on an order that was never placed: answered 404. */
export class OrderNotFound extends OrderRefused {}

export function evolve(state: OrderState, event: OrderEvent): OrderState {
  switch (event.type) {
    case "OrderPlaced":
      return { status: "placed", order: event.data, paid: 0 };
    case "OrderPaid":
      return { ...state, status: "paid", paid: event.data.amount };
    case "OrderShipped":
      return { ...state, status: "shipped" };
    case "OrderCancelled":
      return { ...state, status: "cancelled", paid: 0 };
  }
}

export function decide(command: OrderCommand, state: OrderState): OrderEvent[] {
  if (command.type === "place") {
    if (state.status !== "none") throw new OrderRefused(`order ${command.order.orderId} exists`);
    return [{ type: "OrderPlaced", data: command.order }];
  }
  const order = state.order;
  if (order === undefined) throw new OrderNotFound("no such order");
  const { orderId, customerId } = order;
  switch (command.type) {
    case "pay":
      if (state.status === "cancelled")
        throw new OrderRefused(`order ${orderId} was cancelled: nothing to pay`);
      if (state.status !== "placed") return []; // paid already
      return [
        {
          type: "OrderPaid",
          data: { orderId, customerId, amount: order.total, paidAt: command.at },
        },
      ];
    case "ship":
      if (state.status === "shipped") return [];
      if (state.status !== "paid")
        throw new OrderRefused(`order ${orderId} is ${state.status}: only a paid order ships`);
      return [
        {
          type: "OrderShipped",
          data: { orderId, customerId, shipmentId: command.shipmentId, shippedAt: command.at },
        },
      ];
    case "cancel":
      if (state.status === "cancelled") return [];
      if (state.status === "shipped")
        throw new OrderRefused(`order ${orderId} has shipped: it cannot be cancelled`);
      return [
        {
          type: "OrderCancelled",
          data: {
            orderId,
            customerId,
            reason: "out-of-stock",
            skus: command.skus,
            refunded: state.paid,
            cancelledAt: command.at,
          },
        },
      ];
  }
}
