/**
 * Lets plain `node` (with its built-in type stripping) run the TypeScript sources directly:
 * a relative `./x.js` import that does not exist resolves to `./x.ts`, as tsc maps it.
 * Use with `node --import ./test/support/ts-resolve.ts script.ts`, or import it first.
 * Imports only `node:` modules, so it loads before any hook is in place.
 */
import { registerHooks } from "node:module";

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      if (!specifier.startsWith(".") || !specifier.endsWith(".js")) throw error;
      return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
    }
  },
});
