// The same -F arguments given to curl and to the CLI: the parts that reach a server are the same
// (read back with Python's email parser), or the CLI refuses the argument; never different bytes.
// The few places where this CLI deliberately reads an argument otherwise are checked too, against
// what curl does with them. Needs curl and python3.
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { runCurl } from '../helpers/curl.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { header, parseWithPythonEmail, type MimeTree } from '../helpers/mime-tree.js';
import { startServer } from '../helpers/servers.js';

const dir = tempDir();
writeFile(dir, 'a.txt', 'first file\n');
writeFile(dir, 'b;c.txt', 'semicolon in the name\n');
writeFile(dir, 'd.bin', bytes(70_000, 3));
writeFile(dir, 'h.txt', '# part headers\nX-From-File: yes\n');

/** Every request's Content-Type and body, by the `id` in its query. */
const received = new Map<string, { contentType: string; body: Buffer }>();
const server = await startServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    received.set(new URL(req.url!, 'http://x').searchParams.get('id')!, {
      contentType: req.headers['content-type']!,
      body: Buffer.concat(chunks),
    });
    res.end();
  });
});

let ids = 0;
/** What curl and the CLI send for the same -F argument, parsed; undefined where one refused it. */
async function bothSend(spec: string) {
  const [curlId, ourId] = [`curl-${++ids}`, `ours-${ids}`];
  const [curls, ours] = await Promise.all([
    runCurl(['-F', spec, `${server.url}?id=${curlId}`]),
    runCli(['--no-progress', '-F', spec, `${server.url}?id=${ourId}`]),
  ]);
  const parse = async (id: string) => {
    const request = received.get(id);
    return request === undefined ? undefined : (await parseWithPythonEmail([request]))[0]!.parts![0]!;
  };
  return { curl: await parse(curlId), ours: await parse(ourId), curlResult: curls, ourResult: ours };
}

/**
 * What a part says, as both tools must agree on it: its headers in any order (curl writes a nested
 * file's Content-Disposition first, the library its Content-Type), Content-Type only when ;type= set it.
 */
function summary(part: MimeTree, typed: boolean): unknown {
  const headers = part.headers.filter(([name]) => !/^content-type$/i.test(name) || typed);
  return {
    headers: headers.map(([name, value]) => `${name.toLowerCase()}: ${value}`).sort(),
    body: part.parts === undefined ? part.body!.toString('latin1') : part.parts.map((p) => summary(p, true)),
  };
}

const SAME = [
  'a=value',
  'a=',
  'a=b=c',
  'a= x ',
  'a=" x "',
  'a="x;y"',
  'a="say \\"hi\\""',
  'a="back\\\\slash"',
  'a=un"quoted',
  'a=x;type=text/x-foo',
  'a=x ; type= text/x-foo ',
  'a=x;TYPE=text/plain',
  'a=x;type=application/json; charset=UTF-8',
  'a=x;filename=f.txt',
  'a=x;filename="q\\"r"',
  'a=x;headers=X-A: 1',
  'a=x;headers="X-B: 2;3"',
  `f=@${dir}/a.txt`,
  `f= @ ${dir}/a.txt`,
  `f=@${dir}/a.txt;type=image/png`,
  `f=@${dir}/a.txt;filename=other.png`,
  `f=@"${dir}/b;c.txt"`,
  `t=<${dir}/a.txt`,
  `t=<${dir}/a.txt;type=text/markdown`,
  `f=@${dir}/a.txt,${dir}/d.bin`,
  `f=@${dir}/a.txt;headers=@${dir}/h.txt`,
];

describe('curl and the CLI send the same part for the same -F', () => {
  it.each(SAME)('%s', async (spec) => {
    const { curl, ours, ourResult } = await bothSend(spec);
    expect(ourResult.code, ourResult.stderr).toBe(0);
    const typed = /;\s*type=/i.test(spec);
    expect(summary(ours!, typed)).toEqual(summary(curl!, typed));
  });
});

describe('where the CLI reads -F otherwise than curl, on purpose', () => {
  it('a ";" that starts no known parameter: curl drops what follows with a warning, the CLI keeps it', async () => {
    const { curl, ours, curlResult } = await bothSend('a=x;y');
    expect(curl!.body!.toString()).toBe('x');
    expect(curlResult.stderr).toMatch(/skip unknown form field: y/);
    expect(ours!.body!.toString()).toBe('x;y');
  });

  it.each([
    ['a="x\\y"', 'x\\y'], // curl keeps a backslash before another character; RFC 9110's rule drops it
    ['a="open', '"open'], // curl reads an unterminated quote as text
    ['a="closed"junk', 'closed'], // curl drops text after the closing quote, with a warning
  ])('%j: curl sends %j; the CLI refuses it (exit 2) rather than send something else', async (spec, curlSent) => {
    const { curl, ours, ourResult } = await bothSend(spec);
    expect(curl!.body!.toString()).toBe(curlSent);
    expect(ours).toBeUndefined();
    expect(ourResult.code).toBe(2);
  });

  it(';encoder=base64: curl encodes the part, the CLI refuses (RFC 7578 §4.7 deprecates the header)', async () => {
    const { curl, ours, ourResult } = await bothSend('a=x;encoder=base64');
    expect(header(curl!, 'content-transfer-encoding')).toBe('base64');
    expect(ours).toBeUndefined();
    expect(ourResult.code).toBe(2);
  });
});
