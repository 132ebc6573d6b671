// Every bench script reads its options here, so a mistyped option is one line on stderr and
// exit 2, and `--help` lists what the script takes, instead of a parser stack trace.
import { type ParseArgsConfig, parseArgs } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;
type Values<O extends Options> = ReturnType<
  typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>
>["values"];

function usage(script: string, options: Options): string {
  const lines = Object.entries(options).map(([name, option]) => {
    const value =
      option.type === "string" ? ` <${option.multiple ? "value, repeatable" : "value"}>` : "";
    const fallback =
      option.default === undefined || option.default === ""
        ? ""
        : ` (default ${String(option.default)})`;
    return `  --${name}${value}${fallback}`;
  });
  return `usage: node ${script} [options]\n${lines.join("\n")}\n  --help\n`;
}

export function benchArgs<const O extends Options>(script: string, options: O): Values<O> {
  const args = process.argv.slice(2);
  if (args.includes("--help")) {
    process.stdout.write(usage(script, options));
    process.exit(0);
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as Values<O>;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${script}: ${message} (--help lists the options)\n`);
    process.exit(2);
  }
}

/** An option's value the script cannot use: one line on stderr, exit 2. */
export function invalidOption(script: string, message: string): never {
  process.stderr.write(`${script}: ${message}\n`);
  process.exit(2);
}
