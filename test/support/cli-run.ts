/**
 * Runs the real `switchyard` command (bin/switchyard.js → the built dist/) once, as a user
 * would, and answers its exit code and output. `NO_COLOR` is set: output is plain text.
 */
import { execFile } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const CLI_BIN = join(
  resolve(dirname(fileURLToPath(import.meta.url)), "../.."),
  "bin/switchyard.js",
);

export interface CliRun {
  /** null when the command was killed (e.g. by the timeout). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliRunOptions {
  readonly cwd?: string;
  /** Added to this process's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Default 30 s. */
  readonly timeoutMs?: number;
}

export function runCli(args: readonly string[], options: CliRunOptions = {}): Promise<CliRun> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [CLI_BIN, ...args],
      {
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        env: { ...process.env, NO_COLOR: "1", ...options.env },
        timeout: options.timeoutMs ?? 30_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}
