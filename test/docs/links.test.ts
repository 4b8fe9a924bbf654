// The docs link to one another by relative paths and heading anchors (GitHub and npm resolve
// them): every one must lead to a file that exists and, with a `#`, to a heading in it.
import { existsSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchorsOf, documentationFiles, linksOf, root, slug } from './markdown.js';

const files = [...documentationFiles(), 'CONTRIBUTING.md', 'CHANGELOG.md', 'SECURITY.md', 'bench/README.md'];

/** Where a link leads: a file relative to the root and an anchor, or why it leads nowhere. */
function brokenLink(from: string, target: string): string | undefined {
  if (/^[a-z]+:/i.test(target)) return undefined; // https:, mailto:: outside the repository
  const [path = '', anchor] = target.split('#');
  const file = path === '' ? from : normalize(relative(root, join(root, dirname(from), path)));
  if (file.startsWith('..') || !existsSync(join(root, file))) return `${target}: no file ${file}`;
  if (anchor === undefined) return undefined;
  if (!file.endsWith('.md')) return `${target}: an anchor into a file that is not Markdown`;
  return anchorsOf(file).has(anchor) ? undefined : `${target}: no heading "${anchor}" in ${file}`;
}

describe('links between the docs', () => {
  it('finds links to check', () => {
    expect(files.flatMap((file) => linksOf(file)).length).toBeGreaterThan(50);
  });

  it.each(files)('%s: every relative link leads to a file and heading that exist', (file) => {
    const broken = linksOf(file)
      .map((target) => brokenLink(file, target))
      .filter((why) => why !== undefined);
    expect(broken).toEqual([]);
  });

  it('makes anchors as GitHub does', () => {
    expect(slug('`upload(url, params, options?)`'.replace(/`/g, ''))).toBe('uploadurl-params-options');
    expect(slug('The receiver: `multipart-poster/receiver`')).toBe('the-receiver-multipart-posterreceiver');
    expect(slug('node:http and node:https')).toBe('nodehttp-and-nodehttps');
    expect(slug('Any multipart: related, mixed, nested, part headers')).toBe(
      'any-multipart-related-mixed-nested-part-headers',
    );
  });
});
