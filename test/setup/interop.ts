import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGoParser } from '../helpers/mime-tree.js';
import { requireTools } from '../helpers/tools.js';

/**
 * Interop tests fail loudly, before any of them runs, when a program they need is missing. The Go
 * parser is compiled once for the run and removed with it.
 */
export default async function setup(): Promise<() => void> {
  requireTools();
  const dir = mkdtempSync(join(tmpdir(), 'mime-tree-'));
  process.env.MIME_TREE_GO = await buildGoParser(dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
