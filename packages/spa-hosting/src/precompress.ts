// Brotli and gzip copies of the build's static files, made once per build (`name.js.br`,
// `name.js.gz` beside `name.js`) so the server never compresses per request. index.html is not
// among them: it gets a fresh CSP nonce in every response.
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

/** Content codings the server can send, best first, with the file suffix of each. */
export const ENCODINGS = [
  { coding: 'br', suffix: '.br' },
  { coding: 'gzip', suffix: '.gz' },
] as const;

export type Coding = (typeof ENCODINGS)[number]['coding'];

/** Text formats worth compressing (images and fonts in the build are compressed already). */
const COMPRESSIBLE = new Set(['.js', '.mjs', '.css', '.svg', '.txt', '.json', '.ico', '.map']);

/** Files served as they are read, never from a precompressed copy. */
const TEMPLATED = new Set(['index.html']);

export function isCompressible(name: string): boolean {
  return COMPRESSIBLE.has(extname(name)) && !TEMPLATED.has(name);
}

function compress(coding: Coding, content: Buffer): Buffer {
  return coding === 'br'
    ? brotliCompressSync(content, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: content.length } })
    : gzipSync(content, { level: 9 });
}

function filesBelow(dir: string, prefix = ''): string[] {
  const names: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const name = prefix + entry.name;
    if (entry.isDirectory()) names.push(...filesBelow(join(dir, entry.name), name + '/'));
    else if (entry.isFile()) names.push(name);
  }
  return names;
}

/**
 * Writes the missing or outdated compressed copies of every compressible file below `distDir`
 * (relative names, '/'-separated). A copy that would not be smaller is not kept: the file is
 * then always sent as it is. Returns how many copies were written.
 */
export function precompress(distDir: string): number {
  let written = 0;
  for (const name of filesBelow(distDir)) {
    if (!isCompressible(name)) continue;
    const file = join(distDir, name);
    const modified = statSync(file).mtimeMs;
    let content: Buffer | undefined;
    for (const { coding, suffix } of ENCODINGS) {
      const copy = file + suffix;
      if (existsSync(copy) && statSync(copy).mtimeMs >= modified) continue;
      content ??= readFileSync(file);
      const compressed = compress(coding, content);
      if (compressed.length < content.length) {
        writeFileSync(copy, compressed);
        written++;
      } else {
        rmSync(copy, { force: true });
      }
    }
  }
  return written;
}

/** For each file that has compressed copies, the codings available ('/'-separated names from the root). */
export function compressedCopies(distDir: string): Map<string, Set<Coding>> {
  const copies = new Map<string, Set<Coding>>();
  const names = new Set(filesBelow(distDir));
  for (const name of names) {
    if (!isCompressible(name)) continue;
    const codings = new Set<Coding>();
    for (const { coding, suffix } of ENCODINGS) if (names.has(name + suffix)) codings.add(coding);
    if (codings.size > 0) copies.set(name, codings);
  }
  return copies;
}

/**
 * The best coding both sides accept, from an Accept-Encoding header (RFC 9110 §12.5.3): a coding
 * is acceptable when listed with q > 0, or covered by `*` with q > 0 and not listed itself.
 */
export function negotiateEncoding(acceptEncoding: string | undefined, available: ReadonlySet<Coding>): Coding | undefined {
  if (!acceptEncoding) return undefined;
  const weights = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [token, ...params] = part.trim().toLowerCase().split(';');
    if (!token) continue;
    let q = 1;
    for (const param of params) {
      const [key, value] = param.trim().split('=');
      if (key === 'q') q = Number.parseFloat(value ?? '');
    }
    weights.set(token.trim(), Number.isFinite(q) ? q : 0);
  }
  const weightOf = (coding: string) => weights.get(coding) ?? weights.get('*') ?? 0;
  let best: Coding | undefined;
  for (const { coding } of ENCODINGS) {
    if (available.has(coding) && weightOf(coding) > 0 && (best === undefined || weightOf(coding) > weightOf(best))) best = coding;
  }
  return best;
}
