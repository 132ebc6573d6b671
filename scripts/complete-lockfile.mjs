#!/usr/bin/env node
// The registry reachable here serves only some platform builds of packages such as
// @biomejs/biome, so `npm install` leaves the other platforms' optional packages out of
// package-lock.json, and `npm ci` then refuses the lock as "not in sync". This adds each
// missing optional platform package back, described from a sibling platform's entry (no
// tarball: npm never fetches a package for another platform). Run it after `npm install`;
// `--check` only reports, and `npm test` runs it so an incomplete lock never reaches CI.
import { readFileSync, writeFileSync } from "node:fs";

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8"));
const packages = lock.packages;
const PLATFORM =
  /-(android|darwin|linux|win32|freebsd|openbsd|sunos|aix)-(x64|arm64|arm|ia32|ppc64|s390x|riscv64|loong64)(-(musl|gnu|gnueabihf|msvc))?$/;
const added = [];

/** Where npm resolves `name` from the package at `where`: its own node_modules, then upwards. */
function resolved(where, name) {
  let dir = where;
  for (;;) {
    const key = `${dir === "" ? "" : `${dir}/`}node_modules/${name}`;
    if (packages[key]) return key;
    if (dir === "") return undefined;
    const at = dir.lastIndexOf("/node_modules/");
    dir = at === -1 ? "" : dir.slice(0, at);
  }
}

for (const [where, entry] of Object.entries(packages)) {
  const optional = Object.keys(entry.optionalDependencies ?? {});
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const match = PLATFORM.exec(name);
    if (!match || resolved(where, name)) continue;
    const key = `node_modules/${name}`;
    const sibling = optional.map((other) => packages[resolved(where, other) ?? ""]).find(Boolean);
    const [, os, cpu, , libc] = match;
    packages[key] = {
      version,
      cpu: [cpu],
      ...(sibling?.dev ? { dev: true } : {}),
      ...(libc === "musl" ? { libc: ["musl"] } : {}),
      ...(sibling?.license ? { license: sibling.license } : {}),
      optional: true,
      os: [os],
      ...(sibling?.engines ? { engines: sibling.engines } : {}),
    };
    added.push(`${name}@${version}`);
  }
}

if (process.argv.includes("--check")) {
  if (added.length === 0) process.exit(0);
  console.error(
    `package-lock.json misses ${added.join(", ")}: \`npm ci\` will refuse it. Run node scripts/complete-lockfile.mjs`,
  );
  process.exit(1);
}

const [root, ...rest] = Object.keys(packages);
lock.packages = Object.fromEntries([root, ...rest.sort()].map((key) => [key, packages[key]]));
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(added.length ? `added ${added.length}: ${added.join(", ")}` : "lockfile complete");
