/**
 * The setup step's decision, apart from the machine so it can be tested on any machine:
 * given what is missing and what this process may do, either nothing to do, the commands
 * to run, or the one line that says why it cannot and what to run instead.
 */
import type { Requirement } from "./requirements.ts";

export interface Machine {
  readonly missing: readonly Requirement[];
  readonly root: boolean;
  readonly aptGet: boolean;
}

export type SetupPlan =
  | { readonly kind: "ready" }
  | { readonly kind: "install"; readonly announce: string; readonly commands: ReadonlyArray<readonly string[]> }
  | { readonly kind: "cannot"; readonly line: string };

/** apt waits this long for another apt/dpkg run to finish instead of failing at once. */
export const DPKG_LOCK_TIMEOUT_S = 600;

export function planSetup(m: Machine): SetupPlan {
  if (m.missing.length === 0) return { kind: "ready" };
  const names = m.missing.map((r) => r.package);
  const list = names.join(" ");
  if (!m.aptGet) {
    return {
      kind: "cannot",
      line: `push-edge setup: npm test needs ${list} (missing: ${m.missing.map((r) => r.binary).join(", ")}) and this machine has no apt-get: install them with its package manager so those paths exist, then run npm test again`,
    };
  }
  if (!m.root) {
    return { kind: "cannot", line: `push-edge setup: npm test needs the Debian packages ${list}, which are missing, and only root can install them: run  sudo apt-get install -y ${list}  (or npm test as root)` };
  }
  const lock = ["-o", `DPkg::Lock::Timeout=${DPKG_LOCK_TIMEOUT_S}`];
  return {
    kind: "install",
    announce: `push-edge setup: installing Debian packages for the tests: ${m.missing.map((r) => `${r.package} (${r.neededBy})`).join(", ")}`,
    commands: [
      ["apt-get", ...lock, "update", "-qq"],
      ["apt-get", ...lock, "install", "-y", "-qq", ...names],
    ],
  };
}
