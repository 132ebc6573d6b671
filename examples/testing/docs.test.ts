/** docs/testing.md quotes this example: each quoted block must be the example's code, verbatim. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");

function quotedBlocks(markdown: string): { file: string; code: string }[] {
  const blocks = [...markdown.matchAll(/```ts\n\/\/ (examples\/\S+)\n([\s\S]*?)```/g)];
  return blocks.map((m) => ({ file: m[1] ?? "", code: m[2] ?? "" }));
}

describe("docs/testing.md", () => {
  it("quotes the example's code as it is", () => {
    const blocks = quotedBlocks(readFileSync(join(root, "docs/testing.md"), "utf8"));
    expect(blocks.length).toBeGreaterThan(0);
    for (const { file, code } of blocks)
      expect(readFileSync(join(root, file), "utf8"), `quoted from ${file}`).toContain(code);
  });
});
