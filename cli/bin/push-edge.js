#!/usr/bin/env node
// The `push-edge` bin (npx push-edge ...). Whatever `node` runs this file — the system's
// may be older than 22 — the CLI itself (cli/main.ts, TypeScript run natively) runs on the
// Node 22 this package pins as its `node` devDependency. Plain JS, so any Node can start it.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const entry = join(root, "cli", "main.ts");
const pinned = join(root, "node_modules", ".bin", "node");
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
const recent = major > 22 || (major === 22 && minor >= 18);
const node = recent ? process.execPath : pinned;

if (!recent && !existsSync(pinned)) {
  process.stderr.write(`push-edge: needs Node >= 22.18 (this is ${process.version}); run npm install to get the pinned one\n`);
  process.exit(3);
}

const child = spawn(node, [entry, ...process.argv.slice(2)], { stdio: "inherit" });
// Ctrl-C reaches both processes (same process group); a signal sent to this one alone
// (kill PID) is passed on, and the CLI decides how to stop. Either way we wait for it.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  });
}
child.on("error", (err) => {
  process.stderr.write(`push-edge: could not start ${node}: ${err.message}\n`);
  process.exit(3);
});
child.on("exit", (code, signal) => {
  process.exit(code ?? (signal === "SIGINT" ? 130 : 1));
});
