import { type Command, Option } from "commander";
import { DEFAULTS, type Mode } from "../router-settings.js";

/**
 * The flags `dev` and `serve` share. No commander defaults: an absent flag must stay
 * undefined so the environment and the config file can supply the value.
 */
export function addRouterOptions(command: Command, mode: Mode): void {
  const d = DEFAULTS[mode];
  command
    .addOption(new Option("--host <host>", `interface to listen on (default ${d.host})`))
    .addOption(
      new Option("--port <port>", `port to listen on, 0 for a free one (default ${d.port})`),
    )
    .addOption(
      new Option(
        "--public-url <url>",
        "the URL clients reach this router at, named in stored dataschema URLs (default: the listen URL)",
      ),
    )
    .addOption(new Option("--data <dir>", `data directory (default ./${d.dataDir})`))
    .addOption(
      new Option("--engine <engine>", `storage engine: sqlite | nats (default ${d.engine})`),
    );
  addNatsOptions(command);
  command
    .addOption(
      new Option(
        "--auth",
        `require API keys (default ${d.auth ? "on" : "off"}; first key: SWITCHYARD_ADMIN_KEY)`,
      ),
    )
    .addOption(new Option("--no-auth", "no API keys: accepted only on a loopback --host"))
    .addOption(new Option("--fsync <mode>", `always | interval (default ${d.fsync})`))
    .addOption(
      new Option(
        "--auto-create-topics",
        `create unknown topics on first use (default ${d.autoCreateTopics})`,
      ),
    )
    .addOption(new Option("--no-auto-create-topics", "answer 404 for unknown topics"))
    .addOption(
      new Option(
        "--allow-private-endpoints",
        `push to loopback, private and metadata addresses (default ${d.allowPrivateEndpoints})`,
      ),
    )
    .addOption(
      new Option("--no-allow-private-endpoints", "refuse push endpoints on private addresses"),
    )
    .addOption(
      new Option(
        "--log-level <level>",
        `fatal|error|warn|info|debug|silent (default ${d.logLevel})`,
      ),
    )
    .addOption(
      new Option("--max-body-bytes <size>", "largest request body, e.g. 16MiB (default 16MiB)"),
    )
    .addOption(new Option("--max-batch-events <n>", "most events in one batch (default 10000)"))
    .addOption(
      new Option("--headers-timeout-ms <ms>", "longest wait for request headers (default 10000)"),
    )
    .addOption(
      new Option(
        "--body-idle-timeout-ms <ms>",
        "a request body silent this long is answered 408 (default 30000)",
      ),
    )
    .addOption(
      new Option(
        "--keep-alive-timeout-ms <ms>",
        "idle keep-alive connections close after this (default 72000)",
      ),
    )
    .addOption(
      new Option("--tls-cert <file>", "serve HTTPS and WSS with this PEM certificate chain"),
    )
    .addOption(new Option("--tls-key <file>", "the PEM private key of --tls-cert"))
    .addOption(
      new Option(
        "--secret-key-file <file>",
        "keys sealing push secrets and header values (default: <data>/secret.keys, embedded engine only)",
      ),
    );
}

/**
 * The NATS connection flags, for `dev`, `serve` and the offline `keys create --engine nats`
 * alike (resolved by `resolveSettings` / `resolveNatsSettings`). The password has no flag:
 * `ps` shows flags; it comes from SWITCHYARD_NATS_PASSWORD or the config file.
 */
export function addNatsOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        "--nats-url <urls>",
        "NATS servers for --engine nats, e.g. nats://10.0.0.1:4222,…",
      ),
    )
    .addOption(
      new Option(
        "--nats-prefix <name>",
        "names this installation's streams and buckets (default SY)",
      ),
    )
    .addOption(
      new Option("--nats-replicas <n>", "stream and bucket replicas, 3 on a cluster (default 1)"),
    )
    .addOption(new Option("--nats-creds <file>", "a NATS .creds file (user JWT and nkey seed)"))
    .addOption(new Option("--nats-nkey-file <file>", "a file holding a NATS nkey user seed"))
    .addOption(new Option("--nats-tls-ca <file>", "connect to NATS with TLS, trusting this PEM CA"))
    .addOption(
      new Option("--nats-user <name>", "NATS user (its password: SWITCHYARD_NATS_PASSWORD)"),
    );
}
