// Serves the Angular production build: the runtime configuration written into index.html and
// served as /config.json, /healthz, and a fallback to index.html for deep links. Every response
// carries the security headers and a CSP with a fresh nonce for Angular's run-time style elements.
// Static files go out brotli- or gzip-compressed when the browser accepts it, from copies made
// once per build. Only the build folder's own regular files are served, looked up by name in a list
// made at start. Used by the SPA's own server (token mode) and by the BFF (BFF mode).
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, extname, join } from 'node:path';
import { contentSecurityPolicy, HASHED_ASSET_MAX_AGE_SECONDS, SECURITY_HEADERS } from './security-headers.ts';
import { compressedCopies, ENCODINGS, negotiateEncoding } from './precompress.ts';

/** Placeholder in src/index.html replaced by each response's nonce. */
export const NONCE_PLACEHOLDER = '__CSP_NONCE__';
/** Placeholder in src/index.html replaced by the runtime configuration (what /config.json says). */
export const CONFIG_PLACEHOLDER = '__SPA_CONFIG__';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.ico': 'image/x-icon',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/**
 * Angular's production build names bundles `main-HASH.js`, `chunk-HASH.js`, `styles-HASH.css`,
 * with an 8-character base64url hash (which may itself start with '-': `chunk--pEaFvIN.js`).
 * Only these are cached for good; a new build gives them new names.
 */
const HASHED_NAME = /^(?:main|chunk|polyfills|styles|worker)-[A-Za-z0-9_-]{8}\.(?:js|css)$/;

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface SpaHostingOptions {
  /** The Angular build folder (holding index.html). */
  distDir: string;
  /** What /config.json answers and index.html carries: the browser app's runtime configuration. */
  runtimeConfig: object;
  /** Origins the page may connect to besides itself (none: `connect-src 'self'`). */
  connectOrigins: readonly string[];
  /** Strict-Transport-Security of every answer (the server's public URL is https://), or none. */
  strictTransportSecurity?: string | undefined;
}

export function createSpaHandler({ distDir, runtimeConfig, connectOrigins, strictTransportSecurity }: SpaHostingOptions): RequestHandler {
  const configJson = JSON.stringify(runtimeConfig);
  const indexTemplate = readFileSync(join(distDir, 'index.html'), 'utf8').replaceAll(CONFIG_PLACEHOLDER, escapeAttribute(configJson));
  const copies = compressedCopies(distDir);
  const files = servedFiles(distDir);

  return (req, res) => {
    const nonce = randomBytes(16).toString('base64');
    res.setHeader('Content-Security-Policy', contentSecurityPolicy(nonce, connectOrigins));
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    if (strictTransportSecurity !== undefined) res.setHeader('Strict-Transport-Security', strictTransportSecurity);

    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(req, res, 405, 'text/plain; charset=utf-8', 'Method Not Allowed');
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      return send(req, res, 400, 'text/plain; charset=utf-8', 'Bad Request');
    }

    if (path === '/healthz') {
      res.setHeader('Cache-Control', 'no-store');
      return send(req, res, 200, 'application/json; charset=utf-8', '{"status":"ok"}');
    }
    if (path === '/config.json') {
      res.setHeader('Cache-Control', 'no-store');
      return send(req, res, 200, 'application/json; charset=utf-8', configJson);
    }

    const name = path.slice(1);
    const file = files.get(name);
    if (file) {
      const available = copies.get(name);
      const coding = available && negotiateEncoding(req.headers['accept-encoding'], available);
      let body: Buffer;
      try {
        body = readFileSync(coding ? file + ENCODINGS.find((e) => e.coding === coding)!.suffix : file);
      } catch {
        // Gone since the server started (a new build replaced it): missing, not a crash.
        return send(req, res, 404, 'text/plain; charset=utf-8', 'Not Found');
      }
      res.setHeader('Cache-Control', HASHED_NAME.test(basename(file)) ? `public, max-age=${HASHED_ASSET_MAX_AGE_SECONDS}, immutable` : 'no-cache');
      // The answer depends on Accept-Encoding, whichever coding this one gets.
      if (available) res.setHeader('Vary', 'Accept-Encoding');
      if (coding) res.setHeader('Content-Encoding', coding);
      return send(req, res, 200, CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', body);
    }
    // A path with a file extension that does not exist is a missing asset, not a page.
    if (extname(path) !== '' && path !== '/index.html') {
      return send(req, res, 404, 'text/plain; charset=utf-8', 'Not Found');
    }
    res.setHeader('Cache-Control', 'no-store');
    return send(req, res, 200, CONTENT_TYPES['.html']!, indexTemplate.replaceAll(NONCE_PLACEHOLDER, nonce));
  };
}

/** Text safe inside a double-quoted HTML attribute. */
function escapeAttribute(text: string): string {
  return text.replace(/[&"'<>]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The files a request may name, read once at start (like index.html and the compressed copies): each
 * regular file of the build folder by its '/'-separated name, and nothing else. A request is looked
 * up by name, never turned into a file-system path, so no spelling of `..` can leave the folder;
 * symbolic links are not followed (one may point anywhere); hidden files and folders (`.env`,
 * `.git/`) are not the app's; index.html is the page (with its nonce), never sent as it is; the
 * brotli/gzip copies go out only as the Content-Encoding of the file they copy.
 */
function servedFiles(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const visit = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      if (entry.isDirectory()) visit(join(dir, entry.name), `${prefix}${entry.name}/`);
      else if (entry.isFile()) files.set(prefix + entry.name, join(dir, entry.name));
    }
  };
  visit(root, '');
  files.delete('index.html');
  for (const name of [...files.keys()]) {
    if (ENCODINGS.some(({ suffix }) => name.endsWith(suffix) && files.has(name.slice(0, -suffix.length)))) files.delete(name);
  }
  return files;
}

function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  // Every answer says how it may be cached. An error is never stored: a cache (a CDN, whose
  // defaults keep 404s) holding the 404 of a bundle name a new build has just introduced would
  // keep serving it long after the file is there.
  if (!res.hasHeader('Cache-Control')) res.setHeader('Cache-Control', 'no-store');
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(req.method === 'HEAD' ? undefined : body);
}
