import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** A MIME entity as an independent parser sees it: its headers, and its bytes or its parts. */
export interface MimeTree {
  headers: Array<[string, string]>;
  body?: Buffer;
  parts?: MimeTree[];
  defects?: string[];
  error?: string;
}

export interface RawBody {
  contentType: string;
  body: Buffer;
}

const run = promisify(execFile);
const here = join(import.meta.dirname, 'parsers');

/** Go's mime/multipart, built once per run by the interop setup (test/setup/interop.ts). */
function goBinary(): string {
  const path = process.env.MIME_TREE_GO;
  if (!path) throw new Error('parseWithGo runs under `npm run test:interop`, whose setup builds the Go parser');
  return path;
}

/** Builds the Go parser into `dir`; Go's build cache stays in its usual place, outside the temp directory. */
export async function buildGoParser(dir: string): Promise<string> {
  const out = join(dir, 'mime_tree');
  await run('go', ['build', '-o', out, join(here, 'mime_tree.go')], { env: { ...process.env, GO111MODULE: 'off' } });
  return out;
}

async function parseAll(command: string, args: string[], bodies: readonly RawBody[]): Promise<MimeTree[]> {
  const input =
    bodies.map(({ contentType, body }) => JSON.stringify({ contentType, body: body.toString('base64') })).join('\n') +
    '\n';
  const child = run(command, args, { maxBuffer: 1 << 30 });
  child.child.stdin!.on('error', () => {}); // a parser that dies early fails the run through its exit code, not an EPIPE
  child.child.stdin!.end(input);
  const { stdout } = await child;
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => revive(JSON.parse(line) as Record<string, unknown>));
}

function revive(node: Record<string, unknown>): MimeTree {
  const tree: MimeTree = { headers: (node.headers as Array<[string, string]> | null) ?? [] };
  if (typeof node.body === 'string') tree.body = Buffer.from(node.body, 'base64');
  if (Array.isArray(node.parts)) tree.parts = node.parts.map((part) => revive(part as Record<string, unknown>));
  if (Array.isArray(node.defects)) tree.defects = node.defects as string[];
  if (typeof node.error === 'string') tree.error = node.error;
  return tree;
}

/** Python's email parser (BytesParser) over each body. */
export function parseWithPythonEmail(bodies: readonly RawBody[]): Promise<MimeTree[]> {
  return parseAll('python3', [join(here, 'mime_tree.py')], bodies);
}

/** Go's mime/multipart.Reader over each body. */
export async function parseWithGo(bodies: readonly RawBody[]): Promise<MimeTree[]> {
  return parseAll(goBinary(), [], bodies);
}

/** A header's value in a tree node, its name compared without case (Go canonicalises names). */
export function header(tree: MimeTree, name: string): string | undefined {
  return tree.headers.find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
}
