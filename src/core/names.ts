import { SwitchyardError } from "./errors.js";

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,200}$/;
// No dots, so derived names such as "{topic}.{subscription}.dlq" cannot collide.
const SUBSCRIPTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
/** Event types that the schema registry versions schemas for (API.md "Schemas"). */
const EVENT_TYPE = /^[a-zA-Z0-9._-]{1,200}$/;

export function isTopicName(name: string): boolean {
  return TOPIC_NAME.test(name);
}

export function isSubscriptionName(name: string): boolean {
  return SUBSCRIPTION_NAME.test(name);
}

export function assertTopicName(name: string, pointer = "topic"): void {
  if (!isTopicName(name))
    throw new SwitchyardError(
      "invalid_name",
      `topic name ${JSON.stringify(name)} must match [a-zA-Z0-9._-]{1,200}`,
      { errors: [{ pointer, message: "must match [a-zA-Z0-9._-]{1,200}" }] },
    );
}

export function assertSubscriptionName(name: string, pointer = "name"): void {
  if (!isSubscriptionName(name))
    throw new SwitchyardError(
      "invalid_name",
      `subscription name ${JSON.stringify(name)} must match [a-zA-Z0-9_-]{1,64}`,
      { errors: [{ pointer, message: "must match [a-zA-Z0-9_-]{1,64}" }] },
    );
}

export function isEventType(type: string): boolean {
  return EVENT_TYPE.test(type);
}

export function assertEventType(type: string, pointer = "path:type"): void {
  if (!isEventType(type))
    throw new SwitchyardError(
      "invalid_name",
      `event type ${JSON.stringify(type)} must match [a-zA-Z0-9._-]{1,200}`,
      { errors: [{ pointer, message: "must match [a-zA-Z0-9._-]{1,200}" }] },
    );
}

/** The dead-letter topic a subscription uses when its config names none. */
export function defaultDeadLetterTopic(topic: string, subscription: string): string {
  return `${topic}.${subscription}.dlq`;
}

/** Topics named with this prefix belong to the router (e.g. `switchyard.audit`). */
export const ROUTER_TOPIC_PREFIX = "switchyard.";

export function isRouterTopicName(name: string): boolean {
  return name.startsWith(ROUTER_TOPIC_PREFIX);
}
