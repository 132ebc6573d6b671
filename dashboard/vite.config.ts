import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

// Run from the package root (`vite build -c dashboard/vite.config.ts`): paths are relative
// to `root`. The router's CSP allows no inline script or style, so nothing is inlined.
export default defineConfig({
  root: "dashboard",
  base: "/ui/",
  plugins: [preact()],
  build: {
    outDir: "../dist/dashboard",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: true,
  },
});
