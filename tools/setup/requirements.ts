/**
 * What `npm test` needs from the machine beyond node_modules: Debian packages, each with
 * the binary the tests run. The setup step (tools/setup/main.ts, npm's `pretest`) installs
 * the missing ones before any test starts; the tests themselves install nothing and,
 * run without the setup (`npx vitest run ...`), fail naming `npm run setup`.
 */
import { accessSync, constants, statSync } from "node:fs";

export interface Requirement {
  /** The Debian package. */
  readonly package: string;
  /** Where the tests expect its binary (Debian's path). */
  readonly binary: string;
  readonly neededBy: string;
}

export const CHROMIUM: Requirement = { package: "chromium", binary: "/usr/bin/chromium", neededBy: "the browser tests" };
export const HAPROXY: Requirement = { package: "haproxy", binary: "/usr/sbin/haproxy", neededBy: "the bench-peers test" };
export const NGINX: Requirement = { package: "nginx", binary: "/usr/sbin/nginx", neededBy: "the bench-peers test" };

export const TEST_REQUIREMENTS: readonly Requirement[] = [CHROMIUM, HAPROXY, NGINX];

/** The sentence a test throws when a requirement is missing because the setup did not run. */
export function missingMessage(r: Requirement): string {
  return `${r.binary} is missing (Debian package ${r.package}): run npm run setup as root, or apt-get install -y ${r.package} (npm test does it first)`;
}

/** True when `path` is an executable file (an empty or non-executable stand-in does not count). */
export function isInstalled(r: Requirement): boolean {
  try {
    if (!statSync(r.binary).isFile()) return false;
    accessSync(r.binary, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
