// Tokens at rest: AES-256-GCM with a key ring. The newest key encrypts; every key decrypts what it
// encrypted (rotation: put a new key first, keep the old ones until every session written with
// them has ended). The session's store key is the additional authenticated data, so a ciphertext
// moved to another session does not decrypt.
import { createCipheriv, createDecipheriv, createHash, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDirectoryDurably, createFileWhole, keepOwnerOnly, openInDataDir } from '@suite/process-shell';
import { TOKEN_CIPHER, TOKEN_KEY_BYTES } from './defaults.ts';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = 'v1';

export class TokenKeyError extends Error {}

interface Key {
  id: string;
  /** A KeyObject made once: a Buffer would be turned into one at every cipher. */
  secret: KeyObject;
}

export class TokenCipher {
  readonly #keys: Key[];
  readonly #byId: Map<string, Key>;

  /** `secrets`: 256-bit keys, newest first. */
  constructor(secrets: readonly Buffer[]) {
    if (secrets.length === 0) throw new TokenKeyError('at least one token key is needed');
    this.#keys = secrets.map((secret, i) => {
      if (secret.length !== TOKEN_KEY_BYTES) throw new TokenKeyError(`token key ${i + 1} has ${secret.length} bytes, expected ${TOKEN_KEY_BYTES}`);
      // The id names the key in each ciphertext without revealing it.
      return { id: createHash('sha256').update(secret).digest('base64url').slice(0, 8), secret: createSecretKey(secret) };
    });
    this.#byId = new Map(this.#keys.map((k) => [k.id, k]));
  }

  /** `v1.<key id>.<iv>.<ciphertext + tag>`, base64url parts. */
  encrypt(plaintext: string, context: string): string {
    const key = this.#keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(TOKEN_CIPHER, key.secret, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return [FORMAT, key.id, iv.toString('base64url'), body.toString('base64url')].join('.');
  }

  /** The plaintext; throws when the key is unknown, the context differs or the data was altered. */
  decrypt(sealed: string, context: string): string {
    const [format, keyId, iv, body] = sealed.split('.');
    if (format !== FORMAT || !keyId || !iv || !body) throw new TokenKeyError('not an encrypted token record');
    const key = this.#byId.get(keyId);
    if (!key) throw new TokenKeyError('encrypted with a key no longer configured');
    const data = Buffer.from(body, 'base64url');
    const decipher = createDecipheriv(TOKEN_CIPHER, key.secret, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    return Buffer.concat([decipher.update(data.subarray(0, data.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  }

  /** Whether `sealed` was written with an older key (re-encrypt it on the next write). */
  isStale(sealed: string): boolean {
    return sealed.split('.', 2)[1] !== this.#keys[0]!.id;
  }
}

/**
 * Keys from BFF_TOKEN_KEYS (comma-separated base64 or base64url, newest first). An empty item
 * (`k1,,k2`, a trailing comma) or a key given twice is refused, like every list of the
 * configuration: it is a lost or mistyped key.
 */
export function parseTokenKeys(raw: string): Buffer[] {
  const keys = raw.trim().split(',').map((s) => s.trim()).map((s, i) => {
    if (!s) throw new TokenKeyError(`BFF_TOKEN_KEYS item ${i + 1} is empty`);
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(s)) throw new TokenKeyError(`BFF_TOKEN_KEYS item ${i + 1} is not base64`);
    const key = Buffer.from(s, s.includes('-') || s.includes('_') ? 'base64url' : 'base64');
    if (key.length !== TOKEN_KEY_BYTES) throw new TokenKeyError(`BFF_TOKEN_KEYS item ${i + 1} has ${key.length} bytes, expected ${TOKEN_KEY_BYTES}`);
    return key;
  });
  keys.forEach((key, i) => {
    const first = keys.findIndex((k) => k.equals(key));
    if (first < i) throw new TokenKeyError(`BFF_TOKEN_KEYS item ${i + 1} repeats item ${first + 1}`);
  });
  return keys;
}

export const DEV_KEY_FILE = 'token-key';

/**
 * The configured keys, or (development only) a key generated once and kept in the data
 * directory, readable by its owner only, so sessions survive a restart and every process on that
 * directory uses it.
 */
export function loadTokenKeys(configured: string, dataDir: string, production: boolean): { keys: Buffer[]; generated: boolean } {
  if (configured) return { keys: parseTokenKeys(configured), generated: false };
  if (production) throw new TokenKeyError('the production profile needs BFF_TOKEN_KEYS (the same on every instance)');
  const file = join(dataDir, DEV_KEY_FILE);
  if (existsSync(file)) {
    // A copy or a restore may have left it readable to others.
    openInDataDir('the development token key', 'BFF_DATA_DIR', dataDir, () => keepOwnerOnly(file));
    return { keys: parseTokenKeys(readFileSync(file, 'utf8')), generated: false };
  }
  const generated = openInDataDir('the development token key', 'BFF_DATA_DIR', dataDir, () => generateKeyFile(dataDir, file));
  return { keys: parseTokenKeys(readFileSync(file, 'utf8')), generated };
}

/** Whether this process wrote the key file (another one may have won the race). */
function generateKeyFile(dataDir: string, file: string): boolean {
  createDirectoryDurably(dataDir);
  // Written whole under another name, fsynced, then linked into place and the directory fsynced:
  // of processes starting at once on this directory one key wins and the others read it, never a
  // file still being written, and a power cut cannot leave an empty key (sessions unreadable) or
  // take back one whose sessions were written. A draft that cannot be written whole (disk full)
  // is removed like one that was linked.
  return createFileWhole(file, randomBytes(TOKEN_KEY_BYTES).toString('base64') + '\n');
}
