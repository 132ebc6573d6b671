/**
 * Runs the TypeScript compiler (`tsc --noEmit`) on files in a folder outside the repository,
 * under the repository's strict options, with `switchyard/client` resolved to the SDK's
 * source: what a user's project compiling generated event types against the SDK sees.
 */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const TSC = join(root, "node_modules/typescript/bin/tsc");

export interface Compiled {
  /** tsc's exit code: 0 when there were no errors. */
  readonly code: number;
  readonly output: string;
  /** The `error TS…` lines. */
  readonly errors: readonly string[];
}

/** Makes `dir` an ES module project, as the SDK is, so its imports compile as ESM. */
export async function prepareProject(dir: string): Promise<void> {
  await writeFile(join(dir, "package.json"), JSON.stringify({ type: "module" }));
}

/** Compiles `files` (paths inside `dir`) together; `name` names this run's tsconfig. */
export async function compileFiles(
  dir: string,
  name: string,
  files: readonly string[],
): Promise<Compiled> {
  const config = join(dir, `${name}.tsconfig.json`);
  await writeFile(
    config,
    JSON.stringify({
      compilerOptions: {
        target: "es2023",
        lib: ["es2023"],
        module: "nodenext",
        moduleResolution: "nodenext",
        strict: true,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        verbatimModuleSyntax: true,
        erasableSyntaxOnly: true,
        allowImportingTsExtensions: true,
        noEmit: true,
        skipLibCheck: true,
        types: ["node"],
        typeRoots: [join(root, "node_modules/@types")],
        paths: { "switchyard/client": [join(root, "src/client/index.ts")] },
      },
      files: files.map((file) => join(dir, file)),
    }),
  );
  let code = 0;
  let output: string;
  try {
    output = (await run(process.execPath, [TSC, "-p", config, "--pretty", "false"])).stdout;
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    code = failed.code ?? 1;
    output = `${failed.stdout ?? ""}${failed.stderr ?? ""}`;
  }
  const errors = output.split("\n").filter((line) => /error TS\d+/.test(line));
  return { code, output, errors };
}
