/**
 * The events the shop and the notification service exchange. Each carries the state its
 * consumers need (event-carried state transfer): email can write a receipt from OrderPlaced
 * alone, without calling checkout back.
 */
export interface OrderLine {
  readonly sku: string;
  readonly name: string;
  readonly qty: number;
  readonly unitPrice: number;
}

/** Topic `orders`, type `OrderPlaced`, partitionkey = customerId, correlationid = orderId. */
export interface OrderPlaced {
  readonly orderId: string;
  readonly customerId: string;
  readonly email: string;
  readonly lines: readonly OrderLine[];
  readonly total: number;
  readonly placedAt: string;
  readonly couponCode?: string;
}

/** Topic `inventory`, type `StockReserved`: the order can ship. */
export interface StockReserved {
  readonly orderId: string;
  readonly customerId: string;
  readonly lines: readonly OrderLine[];
}

/** Topic `inventory`, type `OutOfStock`: nothing was reserved; the customer must be told. */
export interface OutOfStock {
  readonly orderId: string;
  readonly customerId: string;
  readonly email: string;
  readonly skus: readonly string[];
}

/** Topic `notifications`, type `NotificationRequested`. */
export interface NotificationRequested {
  readonly requestId: string;
  readonly customerId: string;
  readonly text: string;
}

/** Topic `sms`, type `SmsSent`: what the usage service counts. */
export interface SmsSent {
  readonly requestId: string;
  readonly customerId: string;
}

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
