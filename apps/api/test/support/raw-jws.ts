// Hand-made compact JWS for hostile tests: any header, any payload bytes, any signature.
import { createHmac, KeyObject, sign } from 'node:crypto';
import type { CryptoKey } from 'jose';

export const b64u = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Signs `header.payload` with an RS*, PS* or ES* private key, whatever the header claims. */
export function signRaw(header: Record<string, unknown>, payload: unknown, privateKey: CryptoKey | KeyObject, alg = 'RS256'): string {
  const input = `${b64u(header)}.${b64u(payload)}`;
  const key = privateKey instanceof KeyObject ? privateKey : KeyObject.from(privateKey);
  const hash = `sha${alg.slice(2)}`;
  const sig = alg.startsWith('ES')
    ? sign(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
    : sign(hash, Buffer.from(input), key);
  return `${input}.${sig.toString('base64url')}`;
}

/** HS256 over `header.payload` with `secret` (the classic public-key-as-HMAC-secret attack). */
export function signHmac(header: Record<string, unknown>, payload: unknown, secret: string | Buffer): string {
  const input = `${b64u(header)}.${b64u(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}
