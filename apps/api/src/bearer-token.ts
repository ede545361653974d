// Reads the bearer token from the one place RFC 6750 §2.1 allows here: a single Authorization
// header. The length is capped before anything else looks at the value. Tokens in the query
// string or the body are never read.
import type { IncomingMessage } from 'node:http';
import { invalidRequest, invalidToken, missingToken } from './problem.ts';

function authorizationHeaderCount(raw: IncomingMessage): number {
  // Node keeps only the first Authorization header in `headers`; rawHeaders has them all.
  const h = raw.rawHeaders;
  let n = 0;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!;
    // The usual spellings first: lowercasing allocates a string for every request.
    if (name.length === 13 && (name === 'authorization' || name === 'Authorization' || name.toLowerCase() === 'authorization')) n++;
  }
  return n;
}

export function bearerToken(raw: IncomingMessage, maxTokenLength: number, queryHasToken: boolean): string {
  const header = raw.headers.authorization;
  if (header === undefined) throw missingToken();
  if (header.length > maxTokenLength + 7) throw invalidToken('token_too_long');
  if (authorizationHeaderCount(raw) !== 1) throw invalidRequest('credentials_duplicated');
  // The scheme is case-insensitive (RFC 9110 §11.1), followed by one or more spaces (RFC 6750 §2.1:
  // "Bearer" 1*SP b64token); a tab or nothing after it is malformed.
  if (header.length < 8 || !(header.startsWith('Bearer ') || (header.charCodeAt(6) === 32 && header.slice(0, 6).toLowerCase() === 'bearer'))) {
    // Another scheme (Basic, ...) is not a bearer token at all: answer as if none was sent.
    if (/^bearer(\s|$)/i.test(header)) throw invalidToken('credentials_malformed');
    throw missingToken();
  }
  // RFC 6750 §3.1: more than one way of sending a token is an invalid request.
  if (queryHasToken) throw invalidRequest('credentials_duplicated');
  // The token's syntax is checked by whichever validator reads it (compact JWS or RFC 6750
  // b64token), after the verified-token cache: a hit is an exact match of a token checked before.
  if (header.charCodeAt(7) !== 32) return header.slice(7);
  let start = 8;
  while (header.charCodeAt(start) === 32) start++;
  if (start === header.length) throw invalidToken('credentials_malformed');
  return header.slice(start);
}
