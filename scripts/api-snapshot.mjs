// The public API as lines of text, from the built declarations (dist/*.d.ts): one line per
// exported name, per member of an interface or class, per overload, and per member of a union,
// so that an addition (a new export, option, overload, error code or accepted type) is a new line
// and anything else (a removal, a rename, a narrowed or changed type) removes a line.
// Declarations the exports use without exporting them are listed too, marked "(not exported)":
// they are part of what a caller's code type-checks against.
//
//   npm run build && node scripts/api-snapshot.mjs          compare with test/package/api-snapshot.txt
//   npm run build && node scripts/api-snapshot.mjs --write  record additions (refused if a line went away)
//   ... --write --breaking                                  record a breaking change on purpose
//
// test/package/api.test.ts runs the comparison.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const root = join(import.meta.dirname, '..');
export const snapshotPath = join(root, 'test', 'package', 'api-snapshot.txt');
/** The package's entry points and their declaration files. */
export const ENTRIES = {
  'multipart-poster': 'index',
  'multipart-poster/receiver': 'receiver',
  'multipart-poster/form-data': 'form-data',
};

const printer = ts.createPrinter({ removeComments: true, omitTrailingSemicolon: true });

/** A node as one line of declaration text, without comments. */
function print(node, source) {
  return printer.printNode(ts.EmitHint.Unspecified, node, source).replace(/\s+/g, ' ').replace(/;$/, '');
}

/** The top-level members of a union type, or the type alone. */
function alternatives(type, source) {
  return type && ts.isUnionTypeNode(type) ? type.types.map((t) => print(t, source)) : [print(type, source)];
}

function isPrivate(member) {
  const modifiers = ts.canHaveModifiers(member) ? (ts.getModifiers(member) ?? []) : [];
  return (
    modifiers.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword) ||
    (member.name !== undefined && ts.isPrivateIdentifier(member.name))
  );
}

/** A property's lines: one per alternative of its type, so that widening a type adds a line. */
function memberLines(member, source) {
  if ((ts.isPropertySignature(member) || ts.isPropertyDeclaration(member)) && member.type) {
    const head = print(member.name, source);
    const modifiers = (ts.canHaveModifiers(member) ? (ts.getModifiers(member) ?? []) : [])
      .map((m) => print(m, source))
      .join(' ');
    const name = `${modifiers ? `${modifiers} ` : ''}${head}${member.questionToken ? '?' : ''}`;
    const types = alternatives(member.type, source);
    return types.length === 1 ? [`${name}: ${types[0]}`] : types.map((t) => `${name}: one of ${t}`);
  }
  return [print(member, source)];
}

/** What one top-level declaration contributes: a header line and one line per member. */
function declarationLines(statement, source) {
  if (ts.isInterfaceDeclaration(statement) || ts.isClassDeclaration(statement)) {
    const kind = ts.isInterfaceDeclaration(statement) ? 'interface' : 'class';
    const generics = statement.typeParameters ? `<${statement.typeParameters.map((p) => print(p, source))}>` : '';
    const heritage = (statement.heritageClauses ?? []).map((h) => ` ${print(h, source).trim()}`).join('');
    const members = statement.members.filter((m) => !isPrivate(m)).flatMap((m) => memberLines(m, source));
    return [`${kind}${generics}${heritage}`, ...members.map((m) => `${kind} member ${m}`)];
  }
  if (ts.isTypeAliasDeclaration(statement)) {
    const generics = statement.typeParameters ? `<${statement.typeParameters.map((p) => print(p, source))}>` : '';
    const types = alternatives(statement.type, source);
    return types.length === 1 ? [`type${generics} = ${types[0]}`] : types.map((t) => `type${generics} = one of ${t}`);
  }
  if (ts.isFunctionDeclaration(statement)) return [`function ${print(statement, source).replace(/^.*?function /, '')}`];
  if (ts.isVariableStatement(statement))
    return statement.declarationList.declarations.map((d) => `const ${print(d, source)}`);
  return [print(statement, source).replace(/^declare /, '')];
}

/** The name a top-level statement declares, if any. */
function declaredName(statement) {
  if (ts.isVariableStatement(statement)) return statement.declarationList.declarations[0]?.name.getText();
  return statement.name?.text;
}

/** The API of one declaration file, as sorted lines `ENTRY NAME: ...`. */
export function apiLines(entry, file) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const exported = new Map(); // local name -> exported names
  for (const statement of source.statements) {
    if (ts.isExportAssignment(statement) && ts.isIdentifier(statement.expression)) {
      // `export = X` (a CommonJS entry whose require() gives X) is what its ESM twin exports as default.
      exported.set(statement.expression.text, ['default']);
      continue;
    }
    if (!ts.isExportDeclaration(statement) || !statement.exportClause || !ts.isNamedExports(statement.exportClause))
      continue;
    for (const element of statement.exportClause.elements) {
      const local = (element.propertyName ?? element.name).text;
      exported.set(local, [...(exported.get(local) ?? []), element.name.text]);
    }
  }
  const lines = [];
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement) || ts.isExportAssignment(statement))
      continue;
    const local = declaredName(statement);
    const names = exported.get(local) ?? [`${local ?? '?'} (not exported)`];
    for (const name of names)
      for (const line of declarationLines(statement, source)) lines.push(`${entry} ${name}: ${line}`);
  }
  return [...new Set(lines)].sort();
}

/** The API of every entry, from the ESM (`.d.ts`) or CommonJS (`.d.cts`) declarations in dist/. */
export function currentApi(extension = '.d.ts') {
  return Object.entries(ENTRIES).flatMap(([entry, base]) => apiLines(entry, join(root, 'dist', `${base}${extension}`)));
}

export function recordedApi() {
  return readFileSync(snapshotPath, 'utf8').split('\n').filter(Boolean);
}

/** Lines of the snapshot the build no longer has, and lines the build has that the snapshot does not. */
export function compareApi(recorded = recordedApi(), current = currentApi()) {
  const now = new Set(current);
  const before = new Set(recorded);
  return { removed: recorded.filter((l) => !now.has(l)), added: current.filter((l) => !before.has(l)) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const write = process.argv.includes('--write');
  const breaking = process.argv.includes('--breaking');
  const current = currentApi();
  let recorded = [];
  try {
    recorded = recordedApi();
  } catch {
    // no snapshot yet: everything is an addition
  }
  const { removed, added } = compareApi(recorded, current);
  for (const line of removed) console.log(`- ${line}`);
  for (const line of added) console.log(`+ ${line}`);
  console.log(`${removed.length} removed or changed, ${added.length} added`);
  if (write && (removed.length === 0 || breaking)) {
    writeFileSync(snapshotPath, `${current.join('\n')}\n`);
    console.log(`wrote ${snapshotPath}`);
  } else if (write) {
    console.log('not written: lines went away (a breaking change); give --breaking to record it on purpose');
    process.exitCode = 1;
  } else if (removed.length > 0 || added.length > 0) {
    console.log('the build differs from the snapshot: see CONTRIBUTING.md ("The public API only grows")');
    process.exitCode = 1;
  }
}
