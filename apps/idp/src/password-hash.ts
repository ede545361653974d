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

/** The parameters of a PHC hash that set what checking it costs: memory, passes, parallelism, salt and tag lengths. */
export function hashCostOf(phc: string): string | undefined {
  const m = PHC.exec(phc);
  if (!m) return undefined;
  return `m=${m[1]},t=${m[2]},p=${m[3]},salt=${Buffer.from(m[4]!, 'base64url').length},tag=${Buffer.from(m[5]!, 'base64url').length}`;
}

/** A hash of a random password at the cost `cost` (as hashCostOf writes it). */
function decoyAt(cost: string): string {
  const [memory, passes, parallelism, saltLength, tagLength] = /^m=(\d+),t=(\d+),p=(\d+),salt=(\d+),tag=(\d+)$/.exec(cost)!.slice(1).map(Number) as [number, number, number, number, number];
  const nonce = randomBytes(saltLength);
  const tag = argon2Sync('argon2id', { message: randomBytes(16), nonce, memory, passes, parallelism, tagLength });
  return `$argon2id$v=19$m=${memory},t=${passes},p=${parallelism}$${nonce.toString('base64url')}$${tag.toString('base64url')}`;
}

/**
 * One decoy hash for each cost the users' `hashes` come in (docs/decisions/0056): a login checks
 * the password against one hash of every cost, the user's own for its cost and these for the
 * others, so that every attempt, for any user or for an unknown name, costs the same sum. A users
 * file of one cost (the usual case) makes that one check. Without any hash, the current defaults.
 * In the order of the costs' names: the same order for every attempt.
 */
export function decoyHashesFor(hashes: readonly string[]): Map<string, string> {
  const costs = new Set(hashes.map(hashCostOf).filter((c): c is string => c !== undefined));
  if (costs.size === 0) costs.add(`m=${PASSWORD_HASH.memoryKiB},t=${PASSWORD_HASH.passes},p=${PASSWORD_HASH.parallelism},salt=${PASSWORD_HASH.saltLength},tag=${PASSWORD_HASH.tagLength}`);
  return new Map([...costs].sort().map((cost) => [cost, decoyAt(cost)]));
}
