/**
 * The profiling tools' command lines: `--help` prints the tool's own header comment (where
 * each tool says what it measures and how it is run) and exits; an unknown or malformed
 * option is named in one line, followed by that usage, and the tool exits 2 — instead of a
 * stack trace from node:util.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";

/**
 * Parses this process's arguments for the tool at `toolUrl` (its `import.meta.url`).
 * `choices`: the values a string option may take; any other is a usage error too.
 */
export function toolArgs<const O extends ParseArgsOptionsConfig>(toolUrl: string, options: O, choices: { readonly [K in keyof O]?: readonly string[] } = {}) {
  const args = process.argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(`${usageOf(toolUrl)}\n`);
    process.exit(0);
  }
  const values = parsed(toolUrl, options, args);
  for (const [name, allowed] of Object.entries(choices) as [string, readonly string[] | undefined][]) {
    const value = (values as Record<string, unknown>)[name];
    if (allowed !== undefined && typeof value === "string" && !allowed.includes(value)) {
      usageError(toolUrl, `--${name}: ${allowed.join(" or ")}, not ${JSON.stringify(value)}`);
    }
  }
  return values;
}

function parsed<const O extends ParseArgsOptionsConfig>(toolUrl: string, options: O, args: string[]) {
  try {
    return parseArgs({ options, args, strict: true }).values;
  } catch (err) {
    return usageError(toolUrl, err instanceof Error ? err.message : String(err));
  }
}

/** Says what is wrong with the command line, then the usage, and exits 2. */
function usageError(toolUrl: string, message: string): never {
  process.stderr.write(`${message}\n\n${usageOf(toolUrl)}\n`);
  process.exit(2);
}

/** The tool's leading doc comment, without its comment markers. */
export function usageOf(toolUrl: string): string {
  const text = readFileSync(fileURLToPath(toolUrl), "utf8");
  const comment = /^\/\*\*([\s\S]*?)\*\//.exec(text)?.[1] ?? "";
  return comment
    .split("\n")
    .map((line) => line.replace(/^\s*\* ?/, ""))
    .join("\n")
    .trim();
}
