#!/usr/bin/env node
// Plain JavaScript on purpose, with no syntax newer than Node 12 (no top-level await, no `?.`):
// on an old Node this file must still run far enough to say, in one line, what is wrong.
const parts = process.versions.node.split(".").map(Number);
if (parts[0] < 22 || (parts[0] === 22 && parts[1] < 13)) {
  console.error(
    "switchyard needs Node.js 22.13 or newer (this is " +
      process.versions.node +
      "); Node 24 LTS is recommended.",
  );
  process.exit(1);
}

// Node's on-disk code cache (in the OS temp folder, keyed by file contents and Node version):
// compiling the router's modules was ~0.15 s of CPU of every start, more than half a second
// of wall time on a busy machine. A folder it cannot write just means no cache.
import("node:module")
  .then((module) => {
    if (typeof module.enableCompileCache === "function") module.enableCompileCache();
  })
  .then(() => import("../dist/cli/main.js"))
  .then(
    (cli) =>
      cli.run(process.argv).then((code) => {
        process.exitCode = code;
        // Whatever still holds the event loop once a command is done (an idle keep-alive
        // socket, say) must not keep the command from exiting.
        setTimeout(() => process.exit(), 2000).unref();
      }),
    (error) => {
      if (
        error &&
        error.code === "ERR_MODULE_NOT_FOUND" &&
        String(error.message).includes("main.js")
      ) {
        console.error(
          "switchyard is not built: run `npm run build` in its package directory first.",
        );
        process.exit(1);
      }
      throw error;
    },
  );
