/**
 * HAProxy and nginx come from Debian's packages. When a binary is missing the bench runs
 * `apt-get update && apt-get install -y haproxy nginx` (non-interactive, bounded); when
 * that is impossible (not root, no apt, no mirror) the peer is reported "unavailable"
 * with the reason — never silently left out.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export type PeerName = "haproxy" | "nginx";

export type PeerBinary = { readonly ok: true; readonly path: string; readonly version: string } | { readonly ok: false; readonly reason: string };

const INSTALL_TIMEOUT_MS = 300_000;

async function which(name: string): Promise<string | undefined> {
  // Debian puts both in /usr/sbin, which a non-root PATH may lack.
  try {
    const { stdout } = await run("sh", ["-c", `PATH="$PATH:/usr/sbin:/sbin" command -v ${name}`]);
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

async function version(name: PeerName, path: string): Promise<string> {
  // `haproxy -v` prints to stdout, `nginx -v` to stderr.
  const { stdout, stderr } = await run(path, ["-v"]);
  const text = `${stdout}${stderr}`;
  const match = name === "haproxy" ? /HAProxy version (\S+)/.exec(text) : /nginx\/(\S+)/.exec(text);
  return match?.[1] ?? text.split("\n")[0]?.trim() ?? "unknown";
}

/** Finds haproxy and nginx, installing Debian's packages once when either is missing. */
export async function ensurePeerBinaries(progress: (line: string) => void): Promise<Record<PeerName, PeerBinary>> {
  const names: PeerName[] = ["haproxy", "nginx"];
  let missing = [];
  for (const name of names) if ((await which(name)) === undefined) missing.push(name);
  let installError: string | undefined;
  if (missing.length > 0) {
    progress(`${missing.join(" and ")} not installed: running apt-get install -y ${missing.join(" ")} (Debian packages)...`);
    try {
      if (process.getuid?.() !== 0) throw new Error("installing needs root; run as root or install them yourself: apt-get install haproxy nginx");
      await run("sh", ["-c", `apt-get update -qq && apt-get install -y -qq ${missing.join(" ")}`], {
        env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
        timeout: INSTALL_TIMEOUT_MS,
      });
    } catch (err) {
      const e = err as { stderr?: string; message?: string };
      installError = (e.stderr?.trim().split("\n").slice(-2).join(" ") || e.message) ?? String(err);
    }
    missing = [];
  }
  const why = installError ?? "unknown reason";
  return findPeerBinaries((name) => `${name} is not installed and could not be installed (${why})`, progress);
}

/**
 * Finds haproxy and nginx without installing anything (the tests' way: npm test's setup
 * step installed them before any test ran). `whyMissing` says why one is not there.
 */
export async function findPeerBinaries(whyMissing: (name: PeerName) => string, progress: (line: string) => void = () => {}): Promise<Record<PeerName, PeerBinary>> {
  const names: PeerName[] = ["haproxy", "nginx"];
  const out = {} as Record<PeerName, PeerBinary>;
  for (const name of names) {
    const path = await which(name);
    if (path === undefined) {
      out[name] = { ok: false, reason: whyMissing(name) };
      progress(`${name} UNAVAILABLE: ${out[name].ok ? "" : out[name].reason}`);
      continue;
    }
    try {
      out[name] = { ok: true, path, version: await version(name, path) };
    } catch (err) {
      out[name] = { ok: false, reason: `${path} -v failed: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
  return out;
}
