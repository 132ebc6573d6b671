/**
 * Router settings for `switchyard dev` and `switchyard serve`, from four sources in order of
 * precedence: flags > environment > config file (serve only) > defaults. docs/configuration.md
 * documents the same table; keep them together.
 */

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { TopicIndex } from "../core/config.js";
import { publicUrlProblem } from "../core/dataschema.js";
import { isLoopbackName } from "../core/loopback.js";
import { usage } from "./fail.js";
import { parseBytes, parseInteger } from "./parse.js";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "silent";

export interface RouterSettings {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly engine: "sqlite" | "nats";
  readonly fsync: "always" | "interval";
  /** With `engine: "nats"`: the JetStream every node of this installation shares. */
  readonly nats?: NatsSettings;
  readonly autoCreateTopics: boolean;
  /** Indexes of auto-created topics: `switchyard dev` gives them `correlationid` (flows work at once). */
  readonly autoCreateIndexes: readonly TopicIndex[];
  /** Push to loopback/private/metadata addresses (dev: on; serve: off). */
  readonly allowPrivateEndpoints: boolean;
  readonly logLevel: LogLevel;
  readonly limits: Limits;
  /** Serve HTTPS and WSS: PEM files of the certificate chain and its private key. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** The secret key list (`id:base64,…`), from the environment or the config file only. */
  readonly secretKeys?: string;
  /** A file holding the secret key list. */
  readonly secretKeyFile?: string;
  /** Require API keys (serve: on; dev: off). Off only on a loopback bind. */
  readonly auth: boolean;
  /** SWITCHYARD_ADMIN_KEY: registered as an admin key at start (never a flag: `ps` shows flags). */
  readonly adminKey?: string;
  /** The URL clients reach the router at; names the registry in stored `dataschema`s. */
  readonly publicUrl?: string;
}

export interface NatsSettings {
  readonly url: string;
  readonly prefix?: string;
  readonly replicas?: number;
  /** Paths of a `.creds` file, an nkey seed file and the CA of the servers' certificates. */
  readonly credsFile?: string;
  readonly nkeyFile?: string;
  readonly tlsCaFile?: string;
  readonly user?: string;
  /** From the environment or the config file only: a flag would show in `ps`. */
  readonly password?: string;
}

export interface Limits {
  readonly maxBodyBytes?: number;
  readonly maxBatchEvents?: number;
  readonly headersTimeoutMs?: number;
  readonly bodyIdleTimeoutMs?: number;
  readonly keepAliveTimeoutMs?: number;
}

const LIMIT_KEYS = [
  "maxBodyBytes",
  "maxBatchEvents",
  "headersTimeoutMs",
  "bodyIdleTimeoutMs",
  "keepAliveTimeoutMs",
] as const;

export type Mode = "dev" | "serve";

interface Spec {
  /** Name in the config file (dotted for nested keys). */
  readonly key: string;
  /** Absent for secrets, which come only from the environment or the config file. */
  readonly flag?: string;
  /** Commander's camel-cased name of the flag. */
  readonly option?: string;
  readonly env: string;
  readonly parse: (raw: unknown, where: string) => unknown;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "silent"] as const;

function text(raw: unknown, where: string): string {
  if (typeof raw !== "string" || raw === "")
    throw usage(`${where} must be a non-empty string`, "see docs/configuration.md");
  return raw;
}

function oneOf<T extends string>(values: readonly T[], hint: string) {
  return (raw: unknown, where: string): T => {
    if (typeof raw === "string" && (values as readonly string[]).includes(raw)) return raw as T;
    throw usage(`${where} is ${JSON.stringify(raw)}, not one of ${values.join(", ")}`, hint);
  };
}

function whole(min: number, max: number) {
  return (raw: unknown, where: string): number =>
    typeof raw === "number"
      ? parseInteger(String(raw), where, min, max)
      : parseInteger(text(raw, where), where, min, max);
}

function bytes(raw: unknown, where: string): number {
  return typeof raw === "number"
    ? whole(1, Number.MAX_SAFE_INTEGER)(raw, where)
    : parseBytes(text(raw, where), where);
}

function publicUrl(raw: unknown, where: string): string {
  const url = text(raw, where);
  const problem = publicUrlProblem(url);
  if (problem !== undefined)
    throw usage(
      `${where} ${problem}: ${url}`,
      "pass the absolute http(s) URL clients reach the router at, e.g. https://events.example.com",
    );
  return url;
}

function bool(raw: unknown, where: string): boolean {
  if (typeof raw === "boolean") return raw;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  throw usage(`${where} is ${JSON.stringify(raw)}, not true or false`, "write true or false");
}

const SPECS: readonly Spec[] = [
  { key: "host", flag: "--host", option: "host", env: "SWITCHYARD_HOST", parse: text },
  { key: "port", flag: "--port", option: "port", env: "SWITCHYARD_PORT", parse: whole(0, 65_535) },
  {
    key: "publicUrl",
    flag: "--public-url",
    option: "publicUrl",
    env: "SWITCHYARD_PUBLIC_URL",
    parse: publicUrl,
  },
  { key: "dataDir", flag: "--data", option: "data", env: "SWITCHYARD_DATA", parse: text },
  {
    key: "engine",
    flag: "--engine",
    option: "engine",
    env: "SWITCHYARD_ENGINE",
    parse: oneOf(["sqlite", "nats"], "sqlite (embedded) or nats (JetStream, with --nats-url)"),
  },
  {
    key: "nats.url",
    flag: "--nats-url",
    option: "natsUrl",
    env: "SWITCHYARD_NATS_URL",
    parse: text,
  },
  {
    key: "nats.prefix",
    flag: "--nats-prefix",
    option: "natsPrefix",
    env: "SWITCHYARD_NATS_PREFIX",
    parse: text,
  },
  {
    key: "nats.replicas",
    flag: "--nats-replicas",
    option: "natsReplicas",
    env: "SWITCHYARD_NATS_REPLICAS",
    parse: whole(1, 5),
  },
  {
    key: "nats.creds",
    flag: "--nats-creds",
    option: "natsCreds",
    env: "SWITCHYARD_NATS_CREDS",
    parse: text,
  },
  {
    key: "nats.nkeyFile",
    flag: "--nats-nkey-file",
    option: "natsNkeyFile",
    env: "SWITCHYARD_NATS_NKEY_FILE",
    parse: text,
  },
  {
    key: "nats.tlsCa",
    flag: "--nats-tls-ca",
    option: "natsTlsCa",
    env: "SWITCHYARD_NATS_TLS_CA",
    parse: text,
  },
  {
    key: "nats.user",
    flag: "--nats-user",
    option: "natsUser",
    env: "SWITCHYARD_NATS_USER",
    parse: text,
  },
  { key: "nats.password", env: "SWITCHYARD_NATS_PASSWORD", parse: text },
  { key: "secretKey", env: "SWITCHYARD_SECRET_KEY", parse: text },
  {
    key: "secretKeyFile",
    flag: "--secret-key-file",
    option: "secretKeyFile",
    env: "SWITCHYARD_SECRET_KEY_FILE",
    parse: text,
  },
  {
    key: "fsync",
    flag: "--fsync",
    option: "fsync",
    env: "SWITCHYARD_FSYNC",
    parse: oneOf(
      ["always", "interval"],
      "always = fsync every commit; interval = fsync in the background",
    ),
  },
  {
    key: "autoCreateTopics",
    flag: "--auto-create-topics",
    option: "autoCreateTopics",
    env: "SWITCHYARD_AUTO_CREATE_TOPICS",
    parse: bool,
  },
  {
    key: "allowPrivateEndpoints",
    flag: "--allow-private-endpoints",
    option: "allowPrivateEndpoints",
    env: "SWITCHYARD_ALLOW_PRIVATE_ENDPOINTS",
    parse: bool,
  },
  { key: "auth", flag: "--auth", option: "auth", env: "SWITCHYARD_AUTH", parse: bool },
  { key: "adminKey", env: "SWITCHYARD_ADMIN_KEY", parse: text },
  {
    key: "logLevel",
    flag: "--log-level",
    option: "logLevel",
    env: "SWITCHYARD_LOG_LEVEL",
    parse: oneOf(LOG_LEVELS, `use one of ${LOG_LEVELS.join(", ")}`),
  },
  {
    key: "tls.cert",
    flag: "--tls-cert",
    option: "tlsCert",
    env: "SWITCHYARD_TLS_CERT",
    parse: text,
  },
  { key: "tls.key", flag: "--tls-key", option: "tlsKey", env: "SWITCHYARD_TLS_KEY", parse: text },
  {
    key: "limits.maxBodyBytes",
    flag: "--max-body-bytes",
    option: "maxBodyBytes",
    env: "SWITCHYARD_MAX_BODY_BYTES",
    parse: bytes,
  },
  {
    key: "limits.maxBatchEvents",
    flag: "--max-batch-events",
    option: "maxBatchEvents",
    env: "SWITCHYARD_MAX_BATCH_EVENTS",
    parse: whole(1, 1_000_000),
  },
  {
    key: "limits.headersTimeoutMs",
    flag: "--headers-timeout-ms",
    option: "headersTimeoutMs",
    env: "SWITCHYARD_HEADERS_TIMEOUT_MS",
    parse: whole(0, 3_600_000),
  },
  {
    key: "limits.bodyIdleTimeoutMs",
    flag: "--body-idle-timeout-ms",
    option: "bodyIdleTimeoutMs",
    env: "SWITCHYARD_BODY_IDLE_TIMEOUT_MS",
    parse: whole(0, 3_600_000),
  },
  {
    key: "limits.keepAliveTimeoutMs",
    flag: "--keep-alive-timeout-ms",
    option: "keepAliveTimeoutMs",
    env: "SWITCHYARD_KEEP_ALIVE_TIMEOUT_MS",
    parse: whole(0, 3_600_000),
  },
];

export const DEFAULTS: Record<Mode, Readonly<Record<string, unknown>>> = {
  dev: {
    host: "127.0.0.1",
    port: 8420,
    dataDir: ".switchyard",
    engine: "sqlite",
    fsync: "always",
    autoCreateTopics: true,
    allowPrivateEndpoints: true,
    logLevel: "warn",
    auth: false,
  },
  serve: {
    host: "127.0.0.1",
    port: 8420,
    dataDir: "switchyard-data",
    engine: "sqlite",
    fsync: "always",
    autoCreateTopics: false,
    allowPrivateEndpoints: false,
    logLevel: "info",
    auth: true,
  },
};

export interface ConfigFile {
  readonly path: string;
  readonly values: Readonly<Record<string, unknown>>;
}

export interface Sources {
  /** Commander's parsed options: a flag that was not given is undefined. */
  readonly flags: Readonly<Record<string, unknown>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly file?: ConfigFile;
  /** Relative data directories resolve against this. */
  readonly cwd: string;
}

/** Each spec's value from the first source that has it (flags > env > file > defaults), parsed. */
function choose(
  specs: readonly Spec[],
  sources: Sources,
  defaults: Readonly<Record<string, unknown>>,
): Map<string, unknown> {
  const fileValues = sources.file ? flatten(sources.file) : new Map<string, unknown>();
  const chosen = new Map<string, unknown>();
  for (const spec of specs) {
    const flag = spec.option === undefined ? undefined : sources.flags[spec.option];
    const env = sources.env[spec.env];
    if (flag !== undefined) chosen.set(spec.key, spec.parse(flag, spec.flag ?? spec.key));
    else if (env !== undefined && env !== "") chosen.set(spec.key, spec.parse(env, spec.env));
    else if (fileValues.has(spec.key))
      chosen.set(
        spec.key,
        spec.parse(fileValues.get(spec.key), `${sources.file?.path}: ${spec.key}`),
      );
    else if (spec.key in defaults) chosen.set(spec.key, defaults[spec.key]);
  }
  return chosen;
}

/**
 * The `nats.*` settings alone, for a command that reaches an installation's JetStream
 * without running a router (`keys create --engine nats`): the same flags, environment
 * variables and config-file keys as `serve`, the password from the environment or the file
 * only.
 */
export function resolveNatsSettings(sources: Sources): NatsSettings {
  const specs = SPECS.filter((spec) => spec.key.startsWith("nats."));
  return natsSettings(choose(specs, sources, {}), sources.cwd);
}

/** Merges the sources (flags > env > file > defaults) and validates every value. */
export function resolveSettings(mode: Mode, sources: Sources): RouterSettings {
  const chosen = choose(SPECS, sources, DEFAULTS[mode]);
  const limits: { -readonly [K in keyof Limits]: Limits[K] } = {};
  for (const name of LIMIT_KEYS) {
    const value = chosen.get(`limits.${name}`);
    if (typeof value === "number") limits[name] = value;
  }
  const engine = chosen.get("engine") as "sqlite" | "nats";
  const nats = engine === "nats" ? natsSettings(chosen, sources.cwd) : undefined;
  const tls = tlsSettings(chosen, sources.cwd);
  const secretKeys = chosen.get("secretKey");
  const secretKeyFile = chosen.get("secretKeyFile");
  const host = chosen.get("host") as string;
  const auth = chosen.get("auth") as boolean;
  if (!auth && !isLoopbackName(host))
    throw usage(
      `${mode === "serve" ? "--no-auth" : "dev without --auth"} is accepted only on a loopback bind, not --host ${host}`,
      mode === "serve"
        ? "drop --no-auth and set SWITCHYARD_ADMIN_KEY, or bind --host 127.0.0.1"
        : "pass --auth (with SWITCHYARD_ADMIN_KEY), or bind --host 127.0.0.1",
    );
  const adminKey = chosen.get("adminKey");
  const url = chosen.get("publicUrl");
  return {
    host,
    port: chosen.get("port") as number,
    dataDir: resolve(sources.cwd, chosen.get("dataDir") as string),
    engine,
    fsync: chosen.get("fsync") as "always" | "interval",
    autoCreateTopics: chosen.get("autoCreateTopics") as boolean,
    autoCreateIndexes: mode === "dev" ? ["subject", "correlationid"] : [],
    allowPrivateEndpoints: chosen.get("allowPrivateEndpoints") as boolean,
    logLevel: chosen.get("logLevel") as LogLevel,
    limits,
    ...(nats === undefined ? {} : { nats }),
    ...(tls === undefined ? {} : { tls }),
    ...(typeof secretKeys === "string" ? { secretKeys } : {}),
    ...(typeof secretKeyFile === "string"
      ? { secretKeyFile: resolve(sources.cwd, secretKeyFile) }
      : {}),
    auth,
    ...(typeof adminKey === "string" ? { adminKey } : {}),
    ...(typeof url === "string" ? { publicUrl: url } : {}),
  };
}

function tlsSettings(chosen: ReadonlyMap<string, unknown>, cwd: string): RouterSettings["tls"] {
  const cert = chosen.get("tls.cert");
  const key = chosen.get("tls.key");
  if (cert === undefined && key === undefined) return undefined;
  if (typeof cert !== "string" || typeof key !== "string")
    throw usage(
      `TLS needs both a certificate and its key; only the ${cert === undefined ? "key" : "certificate"} was given`,
      "pass --tls-cert FILE and --tls-key FILE (or SWITCHYARD_TLS_CERT and SWITCHYARD_TLS_KEY)",
    );
  return { certFile: resolve(cwd, cert), keyFile: resolve(cwd, key) };
}

function natsSettings(chosen: ReadonlyMap<string, unknown>, cwd: string): NatsSettings {
  const url = chosen.get("nats.url");
  if (typeof url !== "string")
    throw usage(
      "--engine nats needs the NATS servers to use",
      "pass --nats-url nats://host:4222[,nats://host2:4222] (or SWITCHYARD_NATS_URL)",
    );
  const prefix = chosen.get("nats.prefix");
  const replicas = chosen.get("nats.replicas");
  const optional = (key: string, name: string, path: boolean) => {
    const value = chosen.get(key);
    if (typeof value !== "string") return {};
    return { [name]: path ? resolve(cwd, value) : value };
  };
  const password = optional("nats.password", "password", false);
  if ("password" in password && chosen.get("nats.user") === undefined)
    throw usage(
      "a NATS password was given without a user",
      "set nats.user (--nats-user or SWITCHYARD_NATS_USER) too",
    );
  return {
    url,
    ...(typeof prefix === "string" ? { prefix } : {}),
    ...(typeof replicas === "number" ? { replicas } : {}),
    ...optional("nats.creds", "credsFile", true),
    ...optional("nats.nkeyFile", "nkeyFile", true),
    ...optional("nats.tlsCa", "tlsCaFile", true),
    ...optional("nats.user", "user", false),
    ...password,
  };
}

const NESTED = new Set(["limits", "nats", "tls"]);

/** `{ limits: { maxBodyBytes } }` → `limits.maxBodyBytes`; unknown keys are an error, not a typo ignored. */
function flatten(file: ConfigFile): Map<string, unknown> {
  const known = new Set(SPECS.map((s) => s.key));
  const out = new Map<string, unknown>();
  const walk = (values: Readonly<Record<string, unknown>>, prefix: string): void => {
    for (const [name, value] of Object.entries(values)) {
      const key = prefix + name;
      if (NESTED.has(key) && isRecord(value)) walk(value, `${key}.`);
      else if (known.has(key)) out.set(key, value);
      else
        throw usage(
          `${file.path}: unknown setting ${JSON.stringify(key)}`,
          `known settings: ${[...known].join(", ")}`,
        );
    }
  };
  walk(file.values, "");
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads a JSON config file; a missing or malformed file is a usage error (exit 2). */
export function loadConfigFile(path: string): ConfigFile {
  let textValue: string;
  try {
    textValue = readFileSync(path, "utf8");
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? String(error);
    throw usage(`cannot read config file ${path} (${why})`, "check the --config path");
  }
  let values: unknown;
  try {
    values = JSON.parse(textValue);
  } catch (error) {
    throw usage(
      `config file ${path} is not valid JSON: ${(error as Error).message}`,
      "fix the JSON",
    );
  }
  if (!isRecord(values))
    throw usage(`config file ${path} must hold a JSON object`, "see docs/configuration.md");
  return { path, values };
}
