// Argon2id password hashes in the PHC string format ($argon2id$v=19$m=…,t=…,p=…$salt$hash).
import { argon2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { PASSWORD_HASH } from './defaults.ts';

const argon2Async = promisify(argon2);

interface Argon2Params { memory: number; passes: number; parallelism: number; nonce: Buffer; tagLength: number }

async function derive(password: string, p: Argon2Params): Promise<Buffer> {
  return argon2Async('argon2id', { message: Buffer.from(password, 'utf8'), ...p });
}

export async function hashPassword(password: string): Promise<string> {
  const nonce = randomBytes(PASSWORD_HASH.saltLength);
  const p = { memory: PASSWORD_HASH.memoryKiB, passes: PASSWORD_HASH.passes, parallelism: PASSWORD_HASH.parallelism, tagLength: PASSWORD_HASH.tagLength, nonce };
  const tag = await derive(password, p);
  return `$argon2id$v=19$m=${p.memory},t=${p.passes},p=${p.parallelism}$${nonce.toString('base64url')}$${tag.toString('base64url')}`;
}

const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

export function isPasswordHash(value: string): boolean {
  return PHC.test(value);
}

/** Constant-time comparison; a malformed hash never matches. */
export async function verifyPassword(password: string, phc: string): Promise<boolean> {
  const m = PHC.exec(phc);
  if (!m) return false;
  const expected = Buffer.from(m[5]!, 'base64url');
  const tag = await derive(password, {
    memory: Number(m[1]), passes: Number(m[2]), parallelism: Number(m[3]), nonce: Buffer.from(m[4]!, 'base64url'), tagLength: expected.length,
  });
  return timingSafeEqual(tag, expected);
}

/** A hash of a random password: verifying against it costs what a real check costs, so unknown users take as long as known ones. */
export const decoyHash = await hashPassword(randomBytes(16).toString('hex'));
