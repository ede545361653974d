// The default session store: one SQLite file under the data directory (node:sqlite), WAL, so a
// SIGKILL loses no committed session (with BFF_SQLITE_SYNCHRONOUS=FULL, production's default, a
// power cut neither). Each operation is one statement,
// so it is atomic, also between several processes on the file (a rolling restart, blue/green on
// one host, a second instance for capacity): the refresh lock is a row of the `lock` table, taken
// with one statement and expiring with a dead holder, like the Redis store's (docs/decisions/0019).
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openedDatabaseFile, openInDataDir, openSchemaVersion, ownerOnlyDatabaseFile, refuseWriteIfGone, sqliteIntegrityProblem } from '@suite/process-shell';
import { SharedLocks, type SessionRecord, type SessionStore } from './session-store.ts';
import { SQLITE_SYNCHRONOUS } from '../defaults.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS session (
  key TEXT PRIMARY KEY,
  sub TEXT NOT NULL,
  sid TEXT,
  created_at INTEGER NOT NULL,
  idle_expires_at INTEGER NOT NULL,
  absolute_expires_at INTEGER NOT NULL,
  payload TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS session_sid ON session (sid) WHERE sid IS NOT NULL;
CREATE INDEX IF NOT EXISTS session_sub ON session (sub);
CREATE INDEX IF NOT EXISTS session_expiry ON session (idle_expires_at);
CREATE TABLE IF NOT EXISTS readiness_probe (id INTEGER PRIMARY KEY, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS used_id (
  id TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lock (
  name TEXT PRIMARY KEY,
  token TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  taken_at INTEGER
) WITHOUT ROWID;
-- Pending logins of versions before decision 0071 (they live in the browser now): kept so that a
-- process of the older version on the same file (a rolling restart) still works; emptied by the
-- sweep, never written.
CREATE TABLE IF NOT EXISTS login (
  state TEXT PRIMARY KEY,
  binding TEXT NOT NULL,
  nonce TEXT NOT NULL,
  code_verifier TEXT NOT NULL,
  return_to TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS login_expiry ON login (expires_at);
CREATE INDEX IF NOT EXISTS login_binding ON login (binding, expires_at);
`;

export const SQLITE_FILE = 'bff.sqlite';
/**
 * The schema's version (user_version): raised with every change to the tables or what they mean.
 * A file of a higher version is refused, an older one upgraded (version 0: files from before the
 * stamp, upgraded by adding lock.taken_at).
 */
export const SCHEMA_VERSION = 1;
/**
 * How long a write waits for another process's write to commit before failing with SQLITE_BUSY.
 * Every write here is one short statement, so a wait is microseconds; set before anything else
 * (switching to WAL on a new file takes a lock too, when two processes start at once).
 */
const BUSY_TIMEOUT_MS = 5000;
/** Expired sessions, logins, used ids and dead holders' locks are deleted this often. */
const SWEEP_INTERVAL_MS = 10 * 60_000;

const COLUMNS = 'key, sub, sid, created_at, idle_expires_at, absolute_expires_at, payload';

function toSession(row: Record<string, unknown> | undefined): SessionRecord | undefined {
  if (!row) return undefined;
  return {
    key: row['key'] as string,
    sub: row['sub'] as string,
    sid: (row['sid'] as string | null) ?? null,
    createdAt: Number(row['created_at']),
    idleExpiresAt: Number(row['idle_expires_at']),
    absoluteExpiresAt: Number(row['absolute_expires_at']),
    payload: row['payload'] as string,
  };
}

/** `synchronous`: NORMAL survives a killed process, FULL also a power cut (BFF_SQLITE_SYNCHRONOUS). */
export function openSqliteSessionStore(dataDir: string, now: () => number = Date.now, synchronous: 'NORMAL' | 'FULL' = SQLITE_SYNCHRONOUS.development): SessionStore {
  const db = openInDataDir('the session database', 'BFF_DATA_DIR', dataDir, () => {
    const file = join(dataDir, SQLITE_FILE);
    // The sessions: readable by this user only.
    ownerOnlyDatabaseFile(file);
    const opened = new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS });
    try {
      opened.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${synchronous};`);
      const damaged = sqliteIntegrityProblem(opened, file);
      if (damaged) throw new Error(damaged);
      openSchemaVersion(opened, file, SCHEMA_VERSION, () => {
        opened.exec(SCHEMA);
        // A file made before the lock kept when it was taken (a process of an older version on the
        // same file leaves it NULL, which never counts as taken after now).
        if (!opened.prepare("SELECT 1 FROM pragma_table_info('lock') WHERE name = 'taken_at'").get()) {
          try {
            opened.exec('ALTER TABLE lock ADD COLUMN taken_at INTEGER');
          } catch (err) {
            // Another process starting on the file at the same moment added it first.
            if (!/duplicate column name/.test((err as Error).message)) throw err;
          }
        }
      });
    } catch (err) {
      opened.close();
      throw err;
    }
    return opened;
  });
  const opened = openedDatabaseFile(join(dataDir, SQLITE_FILE));
  // The file deleted or replaced under this process: a write would go to a file nobody opens again
  // (lost at the next restart), so every write is refused (503) and /readyz fails until a restart.
  const writable = () => refuseWriteIfGone(opened);
  const q = {
    insert: db.prepare(`INSERT INTO session (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`),
    get: db.prepare(`SELECT ${COLUMNS} FROM session WHERE key = ? AND idle_expires_at > ? AND absolute_expires_at > ?`),
    update: db.prepare('UPDATE session SET idle_expires_at = ?, absolute_expires_at = ?, payload = ?, sid = ? WHERE key = ?'),
    touch: db.prepare('UPDATE session SET idle_expires_at = MAX(idle_expires_at, ?) WHERE key = ?'),
    destroy: db.prepare(`DELETE FROM session WHERE key = ? RETURNING ${COLUMNS}`),
    destroyBySid: db.prepare('DELETE FROM session WHERE sid = ? RETURNING key'),
    destroyBySub: db.prepare('DELETE FROM session WHERE sub = ? RETURNING key'),
    // Changes when another connection (another process on the same file) commits; never for ours.
    dataVersion: db.prepare('PRAGMA data_version'),
    sweepSessions: db.prepare('DELETE FROM session WHERE idle_expires_at <= ? OR absolute_expires_at <= ?'),
    sweepLogins: db.prepare('DELETE FROM login WHERE expires_at <= ?'),
    // An expired entry is replaced; a live one makes the insert change nothing.
    useId: db.prepare(`INSERT INTO used_id (id, expires_at) VALUES (?, ?)
      ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at WHERE used_id.expires_at <= ?`),
    sweepUsedIds: db.prepare('DELETE FROM used_id WHERE expires_at <= ?'),
    used: db.prepare('SELECT 1 FROM used_id WHERE id = ? AND expires_at > ?'),
    // Taken when free or when its holder's time is up (a process killed while holding it), or when
    // it was taken after now: stamped before the clock stepped back, it would otherwise outlive a
    // dead holder by the step.
    takeLock: db.prepare(`INSERT INTO lock (name, token, expires_at, taken_at) VALUES (?1, ?2, ?3, ?4)
      ON CONFLICT (name) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at, taken_at = excluded.taken_at
      WHERE lock.expires_at <= ?4 OR lock.taken_at > ?4`),
    releaseLock: db.prepare('DELETE FROM lock WHERE name = ? AND token = ?'),
    // Locks left by holders that died (normally a holder deletes its own).
    sweepLocks: db.prepare('DELETE FROM lock WHERE expires_at <= ?'),
    // A write, as every login and session needs: a read-only or full volume is not ready.
    ping: db.prepare('INSERT INTO readiness_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at'),
  };
  // Expiry and wait by the store's clock; processes on one host share the wall clock.
  const locks = new SharedLocks({
    take(name, token, ttlMs) {
      writable();
      const t = now();
      return Number(q.takeLock.run(name, token, t + ttlMs, t).changes) > 0;
    },
    release: (name, token) => q.releaseLock.run(name, token),
  }, now);
  const listeners: ((key: string | null) => void)[] = [];
  const changed = (key: string | null) => {
    for (const listener of listeners) listener(key);
  };
  // A row as an array, not an object: it is read before every use of a session kept in memory.
  q.dataVersion.setReturnArrays(true);
  const dataVersion = () => (q.dataVersion.get() as unknown as [number])[0];
  let seenVersion = dataVersion();
  const destroyAll = (rows: Record<string, unknown>[]) => {
    for (const row of rows) changed(row['key'] as string);
    return rows.length;
  };
  const sweep = () => {
    const t = now();
    q.sweepSessions.run(t, t);
    q.sweepLogins.run(t);
    q.sweepUsedIds.run(t);
    q.sweepLocks.run(t);
  };
  const timer = setInterval(sweep, SWEEP_INTERVAL_MS);
  timer.unref();

  return {
    kind: 'sqlite',
    async create(s) {
      writable();
      q.insert.run(s.key, s.sub, s.sid, s.createdAt, s.idleExpiresAt, s.absoluteExpiresAt, s.payload);
    },
    async get(key, at) {
      return toSession(q.get.get(key, at, at));
    },
    async update(s) {
      writable();
      changed(s.key);
      return Number(q.update.run(s.idleExpiresAt, s.absoluteExpiresAt, s.payload, s.sid, s.key).changes) > 0;
    },
    async touch(key, idleExpiresAt) {
      writable();
      return Number(q.touch.run(idleExpiresAt, key).changes) > 0;
    },
    async destroy(key) {
      writable();
      changed(key);
      return toSession(q.destroy.get(key));
    },
    async destroyBySid(sid) {
      writable();
      return destroyAll(q.destroyBySid.all(sid));
    },
    async destroyBySub(sub) {
      writable();
      return destroyAll(q.destroyBySub.all(sub));
    },
    async firstUse(id, expiresAt) {
      writable();
      return Number(q.useId.run(id, expiresAt, now()).changes) > 0;
    },
    async used(id, at) {
      return q.used.get(id, at) !== undefined;
    },
    withLock(name, fn, options) {
      return locks.run(name, fn, options);
    },
    onChange(listener) {
      listeners.push(listener);
    },
    // One cheap pragma per use: a commit by any other connection (another BFF process on the same
    // file, an operator's sqlite3 shell) makes every session held in memory suspect.
    stillCurrent() {
      const version = dataVersion();
      if (version === seenVersion) return true;
      seenVersion = version;
      changed(null);
      return false;
    },
    async ping() {
      writable();
      q.ping.run(now());
    },
    async close() {
      clearInterval(timer);
      db.close();
    },
  };
}
