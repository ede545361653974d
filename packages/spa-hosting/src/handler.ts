// Serves the Angular production build: the runtime configuration written into index.html and
// served as /config.json, /healthz, and a fallback to index.html for deep links. Every response
// carries the security headers and a CSP with a fresh nonce for Angular's run-time style elements.
// Static files go out brotli- or gzip-compressed when the browser accepts it, from copies made
// once per build. Used by the SPA's own server (token mode) and by the BFF (BFF mode).
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, extname, join, normalize, relative, sep } from 'node:path';
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
}

export function createSpaHandler({ distDir, runtimeConfig, connectOrigins }: SpaHostingOptions): RequestHandler {
  const configJson = JSON.stringify(runtimeConfig);
  const indexTemplate = readFileSync(join(distDir, 'index.html'), 'utf8').replaceAll(CONFIG_PLACEHOLDER, escapeAttribute(configJson));
  const copies = compressedCopies(distDir);

  return (req, res) => {
    const nonce = randomBytes(16).toString('base64');
    res.setHeader('Content-Security-Policy', contentSecurityPolicy(nonce, connectOrigins));
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);

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

    const file = resolveInside(distDir, path);
    if (file && path !== '/' && path !== '/index.html') {
      const type = CONTENT_TYPES[extname(file)] ?? 'application/octet-stream';
      res.setHeader('Cache-Control', HASHED_NAME.test(basename(file)) ? `public, max-age=${HASHED_ASSET_MAX_AGE_SECONDS}, immutable` : 'no-cache');
      const available = copies.get(relative(distDir, file).split(sep).join('/'));
      if (!available) return send(req, res, 200, type, readFileSync(file));
      // The answer depends on Accept-Encoding, whichever coding this one gets.
      res.setHeader('Vary', 'Accept-Encoding');
      const coding = negotiateEncoding(req.headers['accept-encoding'], available);
      if (!coding) return send(req, res, 200, type, readFileSync(file));
      res.setHeader('Content-Encoding', coding);
      return send(req, res, 200, type, readFileSync(file + ENCODINGS.find((e) => e.coding === coding)!.suffix));
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

/** The regular file `urlPath` names inside `root`, or undefined (missing, a folder, or outside). */
function resolveInside(root: string, urlPath: string): string | undefined {
  if (urlPath.includes('\0')) return undefined;
  const full = normalize(join(root, urlPath));
  if (full !== root && !full.startsWith(root.endsWith(sep) ? root : root + sep)) return undefined;
  try {
    return statSync(full).isFile() ? full : undefined;
  } catch {
    return undefined;
  }
}

function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(req.method === 'HEAD' ? undefined : body);
}
