// The SPA's production build as the bench sees it: built when stale (full runs), its initial
// JavaScript (gzip), and what its server sends for it. The login round trips are in
// browser-login.ts (how) and spa-results.ts (the rows).
import { existsSync, readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { firstLine } from '../lib/rows.ts';

const root = join(import.meta.dirname, '..', '..');
const SPA_DIR = join(root, 'apps', 'spa');

export const SPA_ROWS = {
  initialJs: 'initial JavaScript of the production build, gzip -9',
  loginRoundTrip: 'browser login round trip: "Sign in" → "user one data" on screen',
  bffLoginRoundTrip: 'browser login round trip in BFF mode: "Sign in" → "user one data" on screen',
  auth0SpaJs: 'peer: @auth0/auth0-spa-js on a minimal page, the same round trip',
  oidcClientTs: 'peer: oidc-client-ts on a minimal page, the same round trip',
  oidcClientTsAngular: 'bound: a minimal Angular 22 app + oidc-client-ts, the same round trip (what any Angular app doing this round trip reaches here)',
} as const;

export interface InitialJs {
  files: { name: string; bytes: number; gzipBytes: number }[];
  bytes: number;
  gzipBytes: number;
  stale: boolean;
}

interface SpaBuildModule { distDir: string; isBuildStale(): boolean; ensureBuilt(log: (line: string) => void): void }

/** The SPA's own notion of its build (dist folder, stale or not), or undefined when it has none yet. */
export async function spaBuild(): Promise<SpaBuildModule | undefined> {
  const file = join(SPA_DIR, 'server', 'build.ts');
  if (!existsSync(file)) return undefined;
  return (await import(pathToFileURL(file).href)) as SpaBuildModule;
}

/** The SPA's production build folder when it exists and is not older than its sources. */
export async function freshSpaDist(): Promise<string | undefined> {
  const build = await spaBuild();
  return build && existsSync(join(build.distDir, 'index.html')) && !build.isBuildStale() ? build.distDir : undefined;
}

/**
 * Builds the SPA when its build is missing or older than its sources, as its server would on start
 * (done before any measurement, so the build never competes with one). Returns why not, if not.
 */
export async function buildSpaIfStale(log: (line: string) => void): Promise<string | undefined> {
  const build = await spaBuild();
  if (!build) return 'the SPA has no server/build.ts yet';
  if (!build.isBuildStale()) return undefined;
  try {
    build.ensureBuilt(log);
    return undefined;
  } catch (err) {
    return `the SPA build failed: ${firstLine(err)}`;
  }
}

/** Scripts index.html loads (and preloads), plus every chunk they import statically, transitively. */
export function initialScripts(distDir: string): string[] {
  const html = readFileSync(join(distDir, 'index.html'), 'utf8');
  const queue: string[] = [];
  for (const m of html.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g)) queue.push(m[1]!);
  for (const m of html.matchAll(/<link\b[^>]*\brel="modulepreload"[^>]*\bhref="([^"]+)"/g)) queue.push(m[1]!);
  const seen = new Set<string>();
  while (queue.length > 0) {
    const name = queue.shift()!.replace(/^\.?\//, '');
    if (seen.has(name) || /^[a-z]+:/i.test(name)) continue;
    seen.add(name);
    const code = readFileSync(join(distDir, name), 'utf8');
    // Static imports and re-exports only; import("./x.js") is a lazy chunk, not initial.
    for (const m of code.matchAll(/(?:\bfrom\s*|\bimport\s*)["'](\.\/[\w.-]+\.js)["']/g)) queue.push(m[1]!);
  }
  return [...seen];
}

/** The initial scripts of an Angular build (index.html in `distDir`): each file's size, raw and gzip -9, and the totals. */
export function initialJsOf(distDir: string): Omit<InitialJs, 'stale'> {
  const files = initialScripts(distDir).map((name) => {
    const content = readFileSync(join(distDir, name));
    return { name, bytes: content.length, gzipBytes: gzipSync(content, { level: 9 }).length };
  });
  return { files, bytes: files.reduce((s, f) => s + f.bytes, 0), gzipBytes: files.reduce((s, f) => s + f.gzipBytes, 0) };
}

export async function measureInitialJs(): Promise<InitialJs | string> {
  const build = await spaBuild();
  if (!build) return 'the SPA has no server/build.ts yet';
  if (!existsSync(join(build.distDir, 'index.html'))) return 'no production build (apps/spa/dist); `npm run build -w apps/spa` makes one';
  return { ...initialJsOf(build.distDir), stale: build.isBuildStale() };
}

/** What the SPA server sends for the initial scripts to a browser offering br and gzip: body bytes on the wire, and the encodings used. */
export interface ServedJs {
  bytes: number;
  encodings: string[];
}

export async function servedInitialJs(base: string): Promise<ServedJs | undefined> {
  const build = await spaBuild();
  if (!build) return undefined;
  let bytes = 0;
  const encodings = new Set<string>();
  for (const name of initialScripts(build.distDir)) {
    const res = await wireGet(`${base}/${name}`);
    if (res.status !== 200) return undefined;
    bytes += res.bytes;
    encodings.add(res.encoding ?? 'identity');
  }
  return { bytes, encodings: [...encodings] };
}

/** GET without decompression (fetch would decode): the body as sent. */
function wireGet(url: string): Promise<{ status: number; bytes: number; encoding?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { headers: { 'accept-encoding': 'gzip, deflate, br, zstd' }, timeout: 5000 }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => { bytes += chunk.length; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, ...(res.headers['content-encoding'] ? { encoding: res.headers['content-encoding'] } : {}) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}
