/**
 * Command-line parsing for `npm run chaos` / `npm run soak`: `--help` prints the usage, and
 * a mistyped flag is one clear line and exit code 2, not a stack trace.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

export function parseCommandLine<T extends Options>(usage: string, options: T) {
  const args = process.argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) {
    console.log(usage);
    process.exit(0);
  }
  try {
    return parseArgs({ args, options, strict: true }).values;
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n\n${usage}`);
    process.exit(2);
  }
}
