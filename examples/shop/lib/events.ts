/**
 * The events the shop and the notification service exchange. Each carries the state its
 * consumers need (event-carried state transfer): email can write a receipt from OrderPlaced
 * alone, without calling checkout back.
 *
 * Their types are generated from the schemas in `../schemas/` (`node examples/shop/codegen.ts`
 * writes `events.generated.ts`), so a field exists in the code exactly when the registry
 * lets it into a topic. `EventMap` types the services' clients: `createClient<EventMap>()`.
 */
export type {
  EventMap,
  NotificationRequested,
  OrderCancelled,
  OrderLine,
  OrderPaid,
  OrderPlaced,
  OrderShipped,
  OutOfStock,
  PaymentReminderDue,
  SmsSent,
  StockReserved,
} from "./events.generated.ts";

export interface Product {
  readonly sku: string;
  readonly name: string;
  readonly price: number;
}

/** Checkout's catalogue; inventory owns how many of each are left. */
export const CATALOGUE: readonly Product[] = [
  { sku: "mug", name: "Switchyard mug", price: 12 },
  { sku: "kettle", name: "Copper kettle", price: 49 },
  { sku: "lamp", name: "Black Friday lamp (limited)", price: 99 },
];

/** Coupons checkout accepts: percent off the order's total. */
export const COUPONS: Readonly<Record<string, number>> = { SPRING10: 10 };

export const INITIAL_STOCK: Readonly<Record<string, number>> = { mug: 50, kettle: 10, lamp: 1 };
