// Users come from a JSON file: { "demo": boolean, "users": [{ sub, username, passwordHash, name, email, apiScopes }] }.
// `apiScopes` is what the user may be granted at the API (as Auth0's RBAC permissions): bob has none.
import { statSync } from 'node:fs';
import { USERNAME_NORMALIZATION_FORM, USERS_FILE_CHECK_INTERVAL_MS } from './defaults.ts';
import { readJsonFile } from './json-file.ts';
import { decoyHashesFor, hashCostOf, isPasswordHash, verifyPassword } from './password-hash.ts';

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

/**
 * Characters a username in the users file may not hold: invisible or formatting ones (zero-width
 * space and joiners, soft hyphen, direction overrides, variation selectors: any default-ignorable
 * code point), controls, line separators, private-use and unassigned code points. A name holding
 * one looks like another user's name ("ali\u200bce" is "alice" on the screen) and is another key.
 */
const INVISIBLE_OR_UNASSIGNED = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}\p{Default_Ignorable_Code_Point}]/u;
/**
 * Scripts whose letters look alike (Latin a, Cyrillic а, Greek α; Latin o, Cyrillic о, Greek ο…):
 * a username mixing letters of two of them reads as a name written in one ("аlice" with a
 * Cyrillic а) and is another key. Han, kana and Hangul combine with Latin as they are written.
 */
const LOOK_ALIKE_SCRIPTS = ['Latin', 'Greek', 'Cyrillic', 'Armenian', 'Cherokee', 'Coptic'] as const;
const SCRIPT_OF_LETTER = LOOK_ALIKE_SCRIPTS.map((script) => [script, new RegExp(`\\p{Script=${script}}`, 'u')] as const);

/** Why `username` (of the users file) would pass for another name to a reader, or undefined. */
export function confusableUsernameProblem(username: string): string | undefined {
  const key = usernameKey(username);
  const invisible = INVISIBLE_OR_UNASSIGNED.exec(key);
  if (invisible) return `holds the invisible, formatting or unassigned character U+${invisible[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  const scripts = new Set<string>();
  for (const ch of key) {
    for (const [script, re] of SCRIPT_OF_LETTER) if (re.test(ch)) scripts.add(script);
  }
  if (scripts.size > 1) return `mixes letters of the ${[...scripts].join(' and ')} scripts, which look alike`;
  return undefined;
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
    const confusable = confusableUsernameProblem(user.username);
    if (confusable) throw new UsersFileError(`${where}.username ${JSON.stringify(user.username)} ${confusable}: to a reader it is another name than the one the IdP compares (rename it)`);
    if (byName.has(key)) throw new UsersFileError(`${where}: username ${JSON.stringify(user.username)} is the same as ${JSON.stringify(byName.get(key)!.username)} (usernames are compared in Unicode NFKC, trimmed, in lower case)`);
    if (bySub.has(user.sub)) throw new UsersFileError(`${where}: duplicate sub`);
    byName.set(key, user);
    bySub.set(user.sub, user);
  });
  // Every attempt checks one hash of each cost the users' hashes come in: the user's own for its
  // cost, a decoy for the others (and for every cost when the name is unknown), so that no user is
  // told apart from another, or from an unknown name, by the time an attempt takes (decision 0056).
  const decoys = decoyHashesFor([...byName.values()].map((u) => u.passwordHash));
  return {
    demo: doc.demo === true,
    findBySub: (sub) => bySub.get(sub),
    registeredUsername: (username) => byName.get(usernameKey(username))?.username,
    async authenticate(username, password) {
      const user = byName.get(usernameKey(username));
      const own = user && hashCostOf(user.passwordHash);
      const results = await Promise.all([...decoys].map(([cost, decoy]) => (cost === own ? verify(password, user!.passwordHash).then((ok) => ({ own: true, ok })) : verify(password, decoy).then(() => ({ own: false, ok: false })))));
      return user && results.some((r) => r.own && r.ok) ? user : undefined;
    },
  };
}

export interface WatchUsersFileOptions extends LoadUsersOptions {
  /** Why a users file that loads may still not be used (the production profile refuses demo users), or undefined. */
  refuse?: (users: UserDirectory) => string | undefined;
  /** Milliseconds since the epoch (tests drive it). */
  now?: () => number;
  /** Told of each reload, and of each changed file not taken (the previous users stay). */
  onChange?: (event: 'users_file_reloaded' | 'users_file_refused', fields: Record<string, unknown>) => void;
}

/**
 * The users of `file`, read again when the file changes (its inode, size, modification or change
 * time), looked at when a user is looked up, at most every USERS_FILE_CHECK_INTERVAL_MS: a user
 * removed, or a password changed, takes effect without a restart on every instance (the users file
 * is each instance's own copy). A changed file that does not load, or that `refuse` refuses (a
 * file half written, a typo in the JSON, demo users in production), is not taken: the previous
 * users stay and the problem is told once per change. A file that does not load at start-up stops
 * the start (loadUsers throws).
 */
export function watchUsersFile(file: string, opts: WatchUsersFileOptions = {}): UserDirectory {
  const now = opts.now ?? Date.now;
  const identity = () => {
    try {
      const st = statSync(file, { throwIfNoEntry: false, bigint: true });
      return st ? `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}` : 'missing';
    } catch (err) {
      // Not looked at (a directory made unreadable): reading it says why, and the users stay.
      return `unreadable: ${(err as NodeJS.ErrnoException).code}`;
    }
  };
  let seen = identity();
  let current = loadUsers(file, opts);
  let checkedAt = now();
  const check = () => {
    if (now() - checkedAt < USERS_FILE_CHECK_INTERVAL_MS) return;
    checkedAt = now();
    const id = identity();
    if (id === seen) return;
    seen = id;
    let next: UserDirectory;
    try {
      next = loadUsers(file, opts);
    } catch (err) {
      opts.onChange?.('users_file_refused', { file, reason: (err as Error).message, kept: 'the previous users' });
      return;
    }
    const refused = opts.refuse?.(next);
    if (refused) {
      opts.onChange?.('users_file_refused', { file, reason: refused, kept: 'the previous users' });
      return;
    }
    current = next;
    opts.onChange?.('users_file_reloaded', { file });
  };
  return {
    get demo() {
      return current.demo;
    },
    findBySub(sub) {
      check();
      return current.findBySub(sub);
    },
    registeredUsername(username) {
      check();
      return current.registeredUsername(username);
    },
    authenticate(username, password) {
      check();
      return current.authenticate(username, password);
    },
  };
}

/**
 * What the users file's mode lets other users of the machine do: write it (add a user with a
 * password of their choosing, or change one: `writable` when every user can, refused in
 * production; its group: a warning) or read it (the hashes, to guess passwords offline at leisure:
 * a warning). A demo file is public anyway. Undefined when the file is its owner's only, or cannot
 * be looked at (loading it says why).
 */
export function usersFileModeProblem(file: string, demo: boolean): { writable: boolean; problem: string } | undefined {
  const mode = statSync(file, { throwIfNoEntry: false })?.mode;
  if (mode === undefined) return undefined;
  const octal = (mode & 0o777).toString(8).padStart(4, '0');
  if (mode & 0o022) return { writable: (mode & 0o002) !== 0, problem: `the users file ${file} (mode ${octal}) is writable by ${mode & 0o002 ? 'every user of the machine' : 'its group'}: whoever can write it can add a user or change a password; chmod 600 (or 640 for a group that only reads it)` };
  if (!demo && mode & 0o004) return { writable: false, problem: `the users file ${file} (mode ${octal}) is readable by every user of the machine: its password hashes can be guessed at offline; chmod 600 (or 640 for a group that only reads it)` };
  return undefined;
}
