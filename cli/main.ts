/**
 * `push-edge <command>`: the operator's CLI for a push-edge deployment's admin API
 * (README "CLI"). Started by cli/bin/push-edge.js on the package's Node 22.
 */
import { parseArgs } from "node:util";
import { AdminClient } from "./client.ts";
import { GLOBAL_HELP, GLOBAL_OPTIONS, type Command, type CommandContext, type Options, type Values } from "./command.ts";
import { drain } from "./commands/drain.ts";
import { originStateCommand } from "./commands/origin-state.ts";
import { session } from "./commands/session.ts";
import { status } from "./commands/status.ts";
import { tail } from "./commands/tail.ts";
import { token } from "./commands/token.ts";
import { DEFAULT_POOL, resolveConnection } from "./connection.ts";
import { CliError, EXIT, type ExitCode } from "./errors.ts";

const COMMANDS: readonly Command[] = [
  status,
  drain,
  originStateCommand("block"),
  originStateCommand("activate"),
  originStateCommand("maintenance"),
  session,
  tail,
  token,
];

const OVERVIEW = `usage: push-edge <command> [options]

commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`).join("\n")}

${GLOBAL_HELP}

exit codes: 0 ok, 1 the operation failed (the edge refused it, a token did not verify,
a drain timed out), 2 usage error, 3 the edge could not be reached or refused admin
access (token or host), 130 interrupted by Ctrl-C (a drain goes on at the edge; tail exits 0).
'push-edge <command> --help' explains a command.`;

async function main(argv: readonly string[]): Promise<ExitCode> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const about = name === "help" ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    (name === undefined ? process.stderr : process.stdout).write(`${about?.help ?? OVERVIEW}\n`);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) return usage(`unknown command ${JSON.stringify(name)}`, OVERVIEW);

  let positionals: string[];
  let values: Values;
  try {
    const options = { ...GLOBAL_OPTIONS, ...command.options };
    const parsed = parseArgs({ args: dashedPositionals(rest, options), options, allowPositionals: true, strict: true });
    positionals = parsed.positionals;
    // No option is declared `multiple`, so no value is an array.
    values = parsed.values as Values;
  } catch (err) {
    return usage(err instanceof Error ? err.message : String(err), command.help);
  }
  if (values.help === true) {
    process.stdout.write(`${command.help}\n`);
    return EXIT.ok;
  }

  const json = values.json === true;
  const interrupt = new AbortController();
  const stop = () => interrupt.abort();
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  try {
    const connection = resolveConnection({ url: str(values.url), token: str(values.token) }, process.env);
    const ctx = context(new AdminClient(connection, interrupt.signal), str(values.pool) ?? DEFAULT_POOL, json, interrupt.signal);
    return await command.run(positionals, values, ctx);
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    if (err.exitCode === EXIT.usage) return usage(err.message, command.help);
    process.stderr.write(`push-edge ${command.name}: ${err.message}\n`);
    if (json) process.stdout.write(`${JSON.stringify({ error: err.code, message: err.message })}\n`);
    return err.exitCode;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}

/**
 * The arguments with every positional placed after a `--`, so that one starting with "-"
 * stays a positional. Session keys are base64url (workers/edge/token/claims.ts): one in 64
 * starts with "-", and origin session ids may too; parseArgs would read `session -Qx…` as
 * the short flags -Q -x … and refuse it. Only an argument of three or more characters
 * with a single leading "-" that is no declared short flag is taken this way; `--name`,
 * `--name=value`, `-h`, a string flag's value and anything after a `--` are as before.
 */
export function dashedPositionals(args: readonly string[], options: Options): string[] {
  const shorts = new Map<string, string>();
  for (const [name, o] of Object.entries(options)) if (o.short !== undefined) shorts.set(`-${o.short}`, name);
  const flags: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    const long = arg.startsWith("--") ? arg.slice(2) : undefined;
    const name = long ?? shorts.get(arg);
    if (name !== undefined || (arg.startsWith("-") && arg.length <= 2)) {
      // A string flag's value is the next argument, whatever it looks like — joined to the
      // flag, or parseArgs calls a value that starts with "-" (an origin's session id pasted
      // from its logs; ids are random, so now and then one does) ambiguous and stops.
      if (name !== undefined && !name.includes("=") && options[name]?.type === "string" && i + 1 < args.length) {
        const value = args[++i] as string;
        flags.push(long !== undefined ? `${arg}=${value}` : `${arg}${value}`);
      } else {
        flags.push(arg);
      }
    } else {
      positionals.push(arg);
    }
  }
  return positionals.length > 0 ? [...flags, "--", ...positionals] : flags;
}

function usage(message: string, help: string): ExitCode {
  process.stderr.write(`push-edge: ${message}\n\n${help}\n`);
  return EXIT.usage;
}

function str(value: string | boolean | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function context(client: AdminClient, pool: string, json: boolean, signal: AbortSignal): CommandContext {
  const tty = process.stderr.isTTY;
  let lastProgress = "";
  return {
    client,
    pool,
    json,
    signal,
    out: (text) => process.stdout.write(`${text}\n`),
    note: (text) => process.stderr.write(`${text}\n`),
    progress(text) {
      // On a terminal, one line rewritten in place ("" clears it before the result is
      // printed); in a log, a line whenever the progress changes.
      if (tty) process.stderr.write(`\r\x1b[2K${text}`);
      else if (text !== "" && text !== lastProgress) process.stderr.write(`${text}\n`);
      lastProgress = text;
    },
  };
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`push-edge: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = EXIT.failed;
  },
);
