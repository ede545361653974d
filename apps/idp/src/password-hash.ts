// Argon2id password hashes in the PHC string format ($argon2id$v=19$m=…,t=…,p=…$salt$hash).
import { argon2, argon2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
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

/**
 * What an unknown username is checked against, so that it costs what checking a known user's
 * password costs: a hash of a random password with the parameters (memory, passes, parallelism,
 * salt and tag lengths) most of `hashes` share, the users file's (docs/decisions/0056). A hash made
 * at other parameters takes another time to check: a decoy at the current defaults answered an
 * unknown name in a fifth of the time a user hashed at m=64 MiB, t=3 took, which tells an attacker
 * who exists. Without any hash, the current defaults.
 */
export function decoyHashFor(hashes: readonly string[]): string {
  const counts = new Map<string, { n: number; p: Omit<Argon2Params, 'nonce'> & { saltLength: number } }>();
  for (const phc of hashes) {
    const m = PHC.exec(phc);
    if (!m) continue;
    const p = {
      memory: Number(m[1]), passes: Number(m[2]), parallelism: Number(m[3]),
      saltLength: Buffer.from(m[4]!, 'base64url').length, tagLength: Buffer.from(m[5]!, 'base64url').length,
    };
    const key = JSON.stringify(p);
    const seen = counts.get(key);
    if (seen) seen.n++;
    else counts.set(key, { n: 1, p });
  }
  let chosen: Omit<Argon2Params, 'nonce'> & { saltLength: number } = { memory: PASSWORD_HASH.memoryKiB, passes: PASSWORD_HASH.passes, parallelism: PASSWORD_HASH.parallelism, saltLength: PASSWORD_HASH.saltLength, tagLength: PASSWORD_HASH.tagLength };
  let most = 0;
  for (const { n, p } of counts.values()) {
    if (n > most) [most, chosen] = [n, p];
  }
  const nonce = randomBytes(chosen.saltLength);
  const tag = argon2Sync('argon2id', {
    message: randomBytes(16), nonce, memory: chosen.memory, passes: chosen.passes, parallelism: chosen.parallelism, tagLength: chosen.tagLength,
  });
  return `$argon2id$v=19$m=${chosen.memory},t=${chosen.passes},p=${chosen.parallelism}$${nonce.toString('base64url')}$${tag.toString('base64url')}`;
}
