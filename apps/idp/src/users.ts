// Users come from a JSON file: { "demo": boolean, "users": [{ sub, username, passwordHash, name, email, apiScopes }] }.
// `apiScopes` is what the user may be granted at the API (as Auth0's RBAC permissions): bob has none.
import { USERNAME_NORMALIZATION_FORM } from './defaults.ts';
import { readJsonFile } from './json-file.ts';
import { decoyHashFor, isPasswordHash, verifyPassword } from './password-hash.ts';

export interface User {
  sub: string;
  username: string;
  passwordHash: string;
  name: string;
  email: string;
  apiScopes: string[];
}

export interface UserDirectory {
  readonly demo: boolean;
  findBySub(sub: string): User | undefined;
  /** Returns the user when the password is right; unknown users cost the same time as wrong passwords. */
  authenticate(username: string, password: string): Promise<User | undefined>;
  /** The username as registered when one is, else undefined (what a log line may name). */
  registeredUsername(username: string): string | undefined;
}

export class UsersFileError extends Error {}

/**
 * The one form in which a username is looked up, checked for duplicates and counted by the login
 * throttle: NFKC, trimmed, lower case (normalised again, as lower-casing may leave another form).
 * See USERNAME_NORMALIZATION_FORM.
 */
export function usernameKey(username: string): string {
  return username.normalize(USERNAME_NORMALIZATION_FORM).trim().toLowerCase().normalize(USERNAME_NORMALIZATION_FORM);
}

export interface LoadUsersOptions {
  /** Checks a password against a PHC hash (tests watch which hashes are checked). */
  verify?: (password: string, phc: string) => Promise<boolean>;
}

export function loadUsers(file: string, opts: LoadUsersOptions = {}): UserDirectory {
  const verify = opts.verify ?? verifyPassword;
  let parsed: unknown;
  try {
    parsed = readJsonFile(file);
  } catch (err) {
    throw new UsersFileError(`cannot read users file ${file}: ${(err as Error).message}`);
  }
  const doc = parsed as { demo?: unknown; users?: unknown };
  if (!Array.isArray(doc.users)) throw new UsersFileError(`${file}: expected { "users": [...] }`);
  const byName = new Map<string, User>();
  const bySub = new Map<string, User>();
  doc.users.forEach((u: Partial<User>, i: number) => {
    const where = `${file}: users[${i}]`;
    if (typeof u.sub !== 'string' || !u.sub) throw new UsersFileError(`${where}.sub must be a non-empty string`);
    if (typeof u.username !== 'string' || !u.username) throw new UsersFileError(`${where}.username must be a non-empty string`);
    if (typeof u.passwordHash !== 'string' || !isPasswordHash(u.passwordHash)) throw new UsersFileError(`${where}.passwordHash must be an Argon2id PHC string (npm run hash-password -w apps/idp)`);
    if (u.apiScopes !== undefined && !(Array.isArray(u.apiScopes) && u.apiScopes.every((s) => typeof s === 'string'))) throw new UsersFileError(`${where}.apiScopes must be an array of strings`);
    const user: User = { sub: u.sub, username: u.username, passwordHash: u.passwordHash, name: u.name ?? u.username, email: u.email ?? '', apiScopes: u.apiScopes ?? [] };
    const key = usernameKey(user.username);
    if (!key) throw new UsersFileError(`${where}.username must not be white space only`);
    if (byName.has(key)) throw new UsersFileError(`${where}: username ${JSON.stringify(user.username)} is the same as ${JSON.stringify(byName.get(key)!.username)} (usernames are compared in Unicode NFKC, trimmed, in lower case)`);
    if (bySub.has(user.sub)) throw new UsersFileError(`${where}: duplicate sub`);
    byName.set(key, user);
    bySub.set(user.sub, user);
  });
  // An unknown username is checked against this, at the cost of the users' own hashes.
  const decoyHash = decoyHashFor([...byName.values()].map((u) => u.passwordHash));
  return {
    demo: doc.demo === true,
    findBySub: (sub) => bySub.get(sub),
    registeredUsername: (username) => byName.get(usernameKey(username))?.username,
    async authenticate(username, password) {
      const user = byName.get(usernameKey(username));
      const ok = await verify(password, user?.passwordHash ?? decoyHash);
      return user && ok ? user : undefined;
    },
  };
}
