/**
 * The dashboard's static files as the router serves them at /ui/ (needs `npm run build`):
 * open without a key, the strict CSP and nosniff on every answer, hashed assets immutable,
 * index.html revalidated, page paths falling back to index.html, and a problem for a missing
 * asset or any path that tries to leave the build.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "../../src/broker/keys.js";
import { DASHBOARD_CSP } from "../../src/server/routes/dashboard.js";
import { startTestRouter, type TestRouter } from "../support/router.js";

let router: TestRouter;

beforeAll(async () => {
  router = await startTestRouter({ auth: true, adminKey: generateKey().key });
});
afterAll(async () => router.dispose());

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${router.url}${path}`, { headers, redirect: "manual" });

describe("the dashboard's files", () => {
  it("serves index.html without a key, with the CSP, and its assets immutable", async () => {
    const index = await get("/ui/");
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(index.headers.get("content-security-policy")).toBe(DASHBOARD_CSP);
    expect(index.headers.get("x-content-type-options")).toBe("nosniff");
    expect(index.headers.get("cache-control")).toBe("no-cache");
    const html = await index.text();
    // No inline script or style: the CSP would block them.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|style="/);
    const assets = [...html.matchAll(/(?:src|href)="(\/ui\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const asset of assets) {
      const answer = await get(asset ?? "");
      expect(answer.status, asset).toBe(200);
      expect(answer.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
      expect(answer.headers.get("content-type")).toMatch(/^text\/(javascript|css)/);
    }
    const etag = index.headers.get("etag") ?? "";
    expect((await get("/ui/", { "if-none-match": etag })).status).toBe(304);
  });

  it("answers page paths with index.html", async () => {
    // Names may hold dots: below the top level a dot is no file extension.
    for (const path of ["/ui/topics/orders", "/ui/topics/switchyard.audit", "/ui/flows/o.42"]) {
      const page = await get(path);
      expect(page.status, path).toBe(200);
      expect(await page.text()).toContain('<div id="app">');
    }
  });

  it("answers a problem for a missing asset or a path out of the build", async () => {
    for (const path of [
      "/ui/assets/nope.js",
      "/ui/favicon.ico",
      "/ui/robots.txt",
      "/ui/../package.json",
      "/ui/%2e%2e/package.json",
      "/ui/..%2fpackage.json",
    ]) {
      const answer = await get(path);
      if (answer.status === 200) expect(await answer.text(), path).toContain('<div id="app">');
      else {
        expect(answer.status, path).toBe(404);
        expect(answer.headers.get("content-type")).toMatch(/^application\/problem\+json/);
        expect(((await answer.json()) as { code: string }).code).toBe("route_not_found");
      }
    }
    const missing = await get("/ui/assets/nope.js");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-security-policy")).toBe(DASHBOARD_CSP);
  });
});
