import type { RouterProcess } from "../support/router-process.js";
import type { Consumer } from "./consumer.js";
import { callUntilAnswered } from "./http.js";
import type { Producer } from "./producer.js";

/** Per key: confirmed, delivered, the first confirmed offset never delivered; plus router stats. */
export async function backlogReport(
  router: RouterProcess,
  name: string,
  producers: readonly Producer[],
  consumer: Consumer,
): Promise<string> {
  const sub = await callUntilAnswered(
    `${router.url}/v1/subscriptions/${name}`,
    "GET",
    undefined,
    [200],
  );
  const keys = new Map<
    string,
    { confirmed: number; delivered: number; firstMissing: number | undefined }
  >();
  for (const c of producers.flatMap((p) => p.confirmed)) {
    const key = keys.get(c.key) ?? { confirmed: 0, delivered: 0, firstMissing: undefined };
    key.confirmed++;
    if (consumer.delivered.has(c.id)) key.delivered++;
    else key.firstMissing ??= c.offset;
    keys.set(c.key, key);
  }
  const last = consumer.observed.at(-1);
  const recent = consumer.recent.map((line) => `  ${line}`);
  return [
    `subscription: ${JSON.stringify((sub as { stats?: unknown }).stats)}`,
    `consumer: ${JSON.stringify(consumer.stats)}; last delivery ${JSON.stringify(last)}; now ${new Date().toISOString()}`,
    ...recent,
    `router output (tail):\n${router.output.slice(-2_000)}`,
    ...[...keys].map(
      ([key, k]) =>
        `  ${key}: ${k.delivered}/${k.confirmed} delivered, first missing offset ${k.firstMissing}`,
    ),
  ].join("\n");
}
