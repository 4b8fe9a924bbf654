// What the doc tests read from Markdown: fenced code blocks with the heading they sit under,
// headings as GitHub anchors, and links. Enough of CommonMark for our own docs (``` fences,
// ATX headings, inline links), not a general parser.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const root = join(import.meta.dirname, '..', '..');

/** README.md and every docs/*.md, as paths relative to the repository's root. */
export function documentationFiles(): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

export const read = (file: string) => readFileSync(join(root, file), 'utf8');

export interface CodeBlock {
  /** The file, the heading the block sits under and, when that heading has several, its place: `docs/api.md › UploadBody (2)`. */
  title: string;
  code: string;
}

interface Line {
  text: string;
  /** Inside a fenced block (the fence lines included). */
  fenced: boolean;
}

function linesOf(markdown: string): Line[] {
  let fenced = false;
  return markdown.split('\n').map((text) => {
    const fence = /^```/.test(text);
    const line = { text, fenced: fenced || fence };
    if (fence) fenced = !fenced;
    return line;
  });
}

const HEADING = /^(#{1,6}) +(.*?) *#*$/;

/** The `lang` blocks of a file, each named by the heading above it. */
export function codeBlocks(file: string, lang: string): CodeBlock[] {
  const blocks: Array<{ heading: string; code: string }> = [];
  let heading = '(before the first heading)';
  let current: string[] | undefined;
  for (const { text, fenced } of linesOf(read(file))) {
    const match = fenced ? null : HEADING.exec(text);
    if (match) heading = match[2]!.replace(/`/g, '');
    if (current !== undefined) {
      if (text === '```') {
        blocks.push({ heading, code: `${current.join('\n')}\n` });
        current = undefined;
      } else current.push(text);
    } else if (text === '```' + lang) current = [];
  }
  const perHeading = new Map<string, number>();
  for (const { heading: h } of blocks) perHeading.set(h, (perHeading.get(h) ?? 0) + 1);
  const seen = new Map<string, number>();
  return blocks.map(({ heading: h, code }) => {
    const nth = (seen.get(h) ?? 0) + 1;
    seen.set(h, nth);
    return { title: `${file} › ${h}${perHeading.get(h)! > 1 ? ` (${nth})` : ''}`, code };
  });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
export function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a file's headings give, numbered as GitHub numbers repeated ones (`-1`, `-2`). */
export function anchorsOf(file: string): Set<string> {
  const anchors = new Set<string>();
  const counts = new Map<string, number>();
  for (const { text, fenced } of linesOf(read(file))) {
    const match = fenced ? null : HEADING.exec(text);
    if (!match) continue;
    const base = slug(match[2]!);
    const count = counts.get(base) ?? 0;
    counts.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** The targets of a file's inline links `[text](target)`, outside code blocks and code spans. */
export function linksOf(file: string): string[] {
  const targets: string[] = [];
  for (const { text, fenced } of linesOf(read(file))) {
    if (fenced) continue;
    const prose = text.replace(/`[^`]*`/g, '``');
    for (const match of prose.matchAll(/\]\(([^)\s]+)\)/g)) targets.push(match[1]!);
  }
  return targets;
}
