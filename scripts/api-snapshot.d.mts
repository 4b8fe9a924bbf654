/** The package's entry points and the base names of their declaration files in dist/. */
export const ENTRIES: Record<string, string>;
export const root: string;
export const snapshotPath: string;
/** The API of one declaration file, as sorted lines `ENTRY NAME: ...`. */
export function apiLines(entry: string, file: string): string[];
/** The API of every entry, from the ESM (`.d.ts`) or CommonJS (`.d.cts`) declarations in dist/. */
export function currentApi(extension?: '.d.ts' | '.d.cts'): string[];
/** The lines of test/package/api-snapshot.txt. */
export function recordedApi(): string[];
/** Lines of the snapshot the build no longer has, and lines the build has that the snapshot does not. */
export function compareApi(recorded?: string[], current?: string[]): { removed: string[]; added: string[] };
