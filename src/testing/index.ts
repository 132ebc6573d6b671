// The public surface of `switchyard/testing`: named exports only, types as types.
export type { ManualClockOptions } from "./manual-clock.js";
export { ManualClock } from "./manual-clock.js";
export type { TestRouter, TestRouterOptions } from "./test-router.js";
export { createTestRouter } from "./test-router.js";
export type { Truthy, WaitForOptions } from "./wait-for.js";
export { waitFor } from "./wait-for.js";
