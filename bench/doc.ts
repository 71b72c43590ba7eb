/**
 * `--write-doc`: puts a run's Markdown between the generated-figures markers in
 * docs/performance.md, leaving the hand-written text around them alone.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { REPO_ROOT } from "../infra/local/edge.ts";

export const BEGIN = "<!-- bench:figures:begin (npm run bench -- --write-doc replaces this block) -->";
export const END = "<!-- bench:figures:end -->";

export function replaceFigures(doc: string, markdown: string): string {
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/performance.md lacks the markers ${BEGIN} … ${END}`);
  return `${doc.slice(0, start + BEGIN.length)}\n\n${markdown.trim()}\n\n${doc.slice(end)}`;
}

export async function writeDoc(markdown: string): Promise<void> {
  const file = join(REPO_ROOT, "docs", "performance.md");
  await writeFile(file, replaceFigures(await readFile(file, "utf8"), markdown));
}
