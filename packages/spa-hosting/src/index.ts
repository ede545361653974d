// Hosting the Angular SPA's production build: one implementation for the SPA's own server and the BFF.
export { ensureBuilt, isBuildStale, type AngularApp } from './build.ts';
export { CONFIG_PLACEHOLDER, createSpaHandler, NONCE_PLACEHOLDER, type RequestHandler, type SpaHostingOptions } from './handler.ts';
export { compressedCopies, ENCODINGS, negotiateEncoding, precompress, type Coding } from './precompress.ts';
export { contentSecurityPolicy, HASHED_ASSET_MAX_AGE_SECONDS, SECURITY_HEADERS, TRUSTED_TYPES_POLICIES } from './security-headers.ts';
