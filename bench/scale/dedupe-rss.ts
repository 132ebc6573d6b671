/**
 * Run as its own process by `bench:scale`: the resident memory a full dedupe window costs,
 * measured on the router's own `DedupeIndex` filled with `--ids` entries (appends at
 * `--rate` events/s, so the window's marks are as a real one's). Prints one JSON line.
 *
 *   node bench/scale/dedupe-rss.ts --ids 16000000 --rate 100000
 */
import "../../test/support/ts-resolve.ts";
import { parseArgs } from "node:util";

const { DedupeIndex, dedupeHash, MAX_DEDUPE_ENTRIES } = await import(
  "../../src/engine/sqlite/dedupe-index.ts"
);

const { values } = parseArgs({
  options: {
    ids: { type: "string", default: "1000000" },
    rate: { type: "string", default: "100000" },
  },
});
const ids = Number(values.ids);
const rate = Number(values.rate);
if (!Number.isInteger(ids) || ids < 1 || !(rate > 0))
  throw new Error("--ids and --rate must be positive");

const rss = () => process.memoryUsage().rss / 2 ** 20;
const before = rss();
const index = new DedupeIndex();
const start = Date.now();
for (let i = 0; i < ids; i++)
  index.add(dedupeHash("/bench", `id-${i}-${start}`), i, start + Math.floor((i * 1000) / rate));
const after = rss();
console.log(
  JSON.stringify({
    ids,
    kept: index.size,
    cap: MAX_DEDUPE_ENTRIES,
    rssBeforeMiB: before,
    rssAfterMiB: after,
    bytesPerId: ((after - before) * 2 ** 20) / index.size,
  }),
);
