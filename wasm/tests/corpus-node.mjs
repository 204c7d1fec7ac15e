// Reads the shared conformance corpus (tests/conformance/*.json) from disk.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const CORPUS_DIR = fileURLToPath(new URL('../../tests/conformance/', import.meta.url));

/** {fileName: parsed JSON} for every corpus file, index.json included. */
export function readCorpus() {
  const files = {};
  for (const name of readdirSync(CORPUS_DIR).filter((n) => n.endsWith('.json')).sort()) {
    files[name] = JSON.parse(readFileSync(join(CORPUS_DIR, name), 'utf8'));
  }
  return files;
}
