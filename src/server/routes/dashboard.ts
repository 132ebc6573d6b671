import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyReply, FastifyRequest } from "fastify";
import { SwitchyardError } from "../../core/errors.js";
import type { RouteContext } from "../context.js";

/**
 * The dashboard's own policy: the Vite build emits no inline script or style, so nothing
 * but the router's own files runs, and no other site may frame the page (clickjacking).
 */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".map": "application/json",
};

interface StaticFile {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
  /** Vite names built assets by content hash: such a URL never changes meaning. */
  readonly immutable: boolean;
}

/**
 * Both `src/server/routes/` and `dist/server/routes/` sit three levels below the package
 * root, so the built dashboard is found from either (tests run the source).
 */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(
  new URL("../../../dist/dashboard/", import.meta.url),
);

/**
 * Every file of the build, read once: a request can name only a key of this map, so no
 * path it sends (`..`, encoded or not) reaches the file system.
 */
function loadFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  if (!existsSync(dir)) return files;
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        const name = relative(dir, path).split(sep).join("/");
        const body = readFileSync(path);
        const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
        const type = TYPES[extname(name)] ?? "application/octet-stream";
        files.set(name, { body, type, etag, immutable: name.startsWith("assets/") });
      }
    }
  };
  walk(dir);
  return files;
}

function send(reply: FastifyReply, file: StaticFile, ifNoneMatch: string | undefined) {
  reply
    .header("content-type", file.type)
    .header("etag", file.etag)
    .header("cache-control", file.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  if (ifNoneMatch === file.etag) return reply.code(304).send();
  return reply.code(200).send(file.body);
}

/**
 * `/ui/`: the dashboard's static files, open without a key (they hold no data; the page
 * signs in through `/ui/session` and then reads the public API like any client). A path
 * that names no file and looks like a page (outside `assets/`, and with no extension when it
 * has one segment) gets `index.html`, so the page's own routes survive a reload.
 */
export function dashboardRoutes({ app }: RouteContext, dir = DEFAULT_DASHBOARD_DIR): void {
  let files: Map<string, StaticFile> | undefined;
  // On this route only (its problems included), so no other request pays for a hook.
  const onSend = (
    _request: FastifyRequest,
    reply: FastifyReply,
    payload: unknown,
    done: (error: null, payload: unknown) => void,
  ) => {
    reply.header("content-security-policy", DASHBOARD_CSP);
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "no-referrer");
    done(null, payload);
  };

  app.get<{ Params: { "*": string } }>("/ui/*", { onSend }, async (request, reply) => {
    files ??= loadFiles(dir);
    const name = request.params["*"];
    const ifNoneMatch = request.headers["if-none-match"];
    const file = files.get(name === "" ? "index.html" : name);
    if (file !== undefined) return send(reply, file, ifNoneMatch);
    const last = name.split("/").at(-1) ?? "";
    const index = files.get("index.html");
    if (index === undefined)
      throw new SwitchyardError(
        "route_not_found",
        "the dashboard is not built: run `npm run build` (it writes dist/dashboard/)",
      );
    // The build's files sit at the top or under assets/, so only there does a dot mean a
    // file; deeper, a dot belongs to a name (/ui/topics/switchyard.audit, /ui/flows/o.42).
    if (name.startsWith("assets/") || (!name.includes("/") && last.includes(".")))
      throw new SwitchyardError("route_not_found", `the dashboard has no file ${name}`);
    return send(reply, index, ifNoneMatch);
  });
}
