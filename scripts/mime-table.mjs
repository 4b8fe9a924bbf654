// The extension → Content-Type table the library guesses with, taken at build time from
// mime-types (its answers exactly: `types`, after its own preference rules), so that importing
// the package loads no 200 KB database. One line per type: `type ext ext...`.
import { createRequire } from 'node:module';

export function mimeTable() {
  const { types } = createRequire(import.meta.url)('mime-types');
  const byType = new Map();
  for (const [extension, type] of Object.entries(types)) byType.set(type, [...(byType.get(type) ?? []), extension]);
  return [...byType].map(([type, extensions]) => `${type} ${extensions.join(' ')}`).join('\n');
}
