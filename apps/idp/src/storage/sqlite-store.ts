// The default store: one SQLite file under the data directory (node:sqlite). WAL journaling, so
// a SIGKILL loses nothing that was committed; every statement here is a single atomic write.
// Housekeeping: the WAL is checkpointed and truncated at a small size, expired rows are swept at
// start-up and periodically.
import { statfsSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { databaseFileGone, describeDataDirError, openedDatabaseFile, openSchemaVersion, ownerOnlyDatabaseFile, SQLITE_UNAVAILABLE, sqliteIntegrityProblem, type OpenedDatabaseFile } from '@suite/process-shell';
import { epochSeconds, systemClock, type Clock } from '../clock.ts';
import { INSTANCE_CLOCK_SKEW_SECONDS, SQLITE_BUSY_TIMEOUT_MS, SQLITE_EXPIRED_ROW_GRACE_SECONDS, SQLITE_SWEEP_INTERVAL_SECONDS, SQLITE_WAL_LIMIT_BYTES } from '../defaults.ts';
import { GRANT_MEMBERS, StoreUnavailableError, withinReuseInterval, type AttemptReservation, type ConsumeOutcome, type Payload, type Store, type StoredSigningKey } from './store.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS oidc_artifact (
  model TEXT NOT NULL,
  id TEXT NOT NULL,
  payload TEXT NOT NULL,
  grant_id TEXT,
  uid TEXT,
  user_code TEXT,
  expires_at INTEGER,
  consumed_at INTEGER,
  PRIMARY KEY (model, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS oidc_artifact_grant ON oidc_artifact (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS oidc_artifact_uid ON oidc_artifact (uid) WHERE uid IS NOT NULL;
CREATE INDEX IF NOT EXISTS oidc_artifact_user_code ON oidc_artifact (user_code) WHERE user_code IS NOT NULL;
CREATE INDEX IF NOT EXISTS oidc_artifact_expiry ON oidc_artifact (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS signing_key (
  kid TEXT PRIMARY KEY,
  alg TEXT NOT NULL,
  jwk TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  retired_at INTEGER,
  activates_at INTEGER
);
CREATE TABLE IF NOT EXISTS setting (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS login_failure (key TEXT PRIMARY KEY, count INTEGER NOT NULL, window_start INTEGER NOT NULL);
`;

/**
 * The schema's version (user_version): raised with every change to the tables or what they mean.
 * A file of a higher version is refused, an older one upgraded (version 0: files from before the
 * stamp, upgraded by adding signing_key.activates_at).
 */
export const SCHEMA_VERSION = 1;

/** Why a failed statement means the store is unavailable (full, read-only…), or undefined for any other error. */
export function sqliteUnavailableReason(dataDir: string, err: unknown): string | undefined {
  const e = err as { code?: string; errcode?: number };
  return e.code === 'ERR_SQLITE_ERROR' && e.errcode !== undefined && SQLITE_UNAVAILABLE.has(e.errcode & 0xff) ? describeDataDirError(dataDir, err) : undefined;
}

export interface SqliteStoreOptions {
  dataDir: string;
  synchronous: 'NORMAL' | 'FULL';
  /** Expired rows are deleted at opening and this often (seconds); 0 disables the periodic sweep. */
  sweepIntervalSeconds?: number;
  /** The store reports not ready when the data directory's volume has less free space than this. */
  minFreeBytes?: number;
  clock?: Clock;
}

/** The database file of the SQLite store in the data directory `dataDir`. */
export function sqliteStoreFile(dataDir: string): string {
  return join(dataDir, 'idp.sqlite');
}

export function openSqliteStore(opts: SqliteStoreOptions): Store {
  const clock = opts.clock ?? systemClock;
  const now = () => epochSeconds(clock);
  const file = sqliteStoreFile(opts.dataDir);
  let db: DatabaseSync;
  let opened: OpenedDatabaseFile;
  try {
    // Its private signing keys, cookie keys and refresh tokens: readable by this user only.
    ownerOnlyDatabaseFile(file);
    // The busy timeout from the first statement on: switching a new file to WAL locks it, and
    // instances starting at once on one directory would otherwise fail with "database busy".
    db = new DatabaseSync(file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
    db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${opts.synchronous};`);
    opened = openedDatabaseFile(file);
    const damaged = sqliteIntegrityProblem(db, file);
    if (damaged) throw new Error(damaged);
    const pageSize = Number(db.prepare('PRAGMA page_size').get()!['page_size']);
    db.exec(`PRAGMA wal_autocheckpoint = ${Math.max(1, Math.floor(SQLITE_WAL_LIMIT_BYTES / pageSize))}; PRAGMA journal_size_limit = ${SQLITE_WAL_LIMIT_BYTES};`);
    openSchemaVersion(db, file, SCHEMA_VERSION, () => {
      db.exec(SCHEMA);
      const keyColumns = db.prepare("SELECT name FROM pragma_table_info('signing_key')").all().map((r) => r['name']);
      if (!keyColumns.includes('activates_at')) db.exec('ALTER TABLE signing_key ADD COLUMN activates_at INTEGER');
    });
  } catch (err) {
    throw new StoreUnavailableError(`cannot open the SQLite store in IDP_DATA_DIR: ${describeDataDirError(opts.dataDir, err)}`, { cause: err });
  }

  const q = {
    upsert: db.prepare(`INSERT INTO oidc_artifact (model, id, payload, grant_id, uid, user_code, expires_at, consumed_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, NULL)
      ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id, uid = excluded.uid,
        user_code = excluded.user_code, expires_at = excluded.expires_at`),
    find: db.prepare('SELECT payload, consumed_at FROM oidc_artifact WHERE model = ? AND id = ? AND (expires_at IS NULL OR expires_at > ?)'),
    findByUid: db.prepare('SELECT payload, consumed_at FROM oidc_artifact WHERE model = ? AND uid = ? AND (expires_at IS NULL OR expires_at > ?)'),
    findByUserCode: db.prepare('SELECT payload, consumed_at FROM oidc_artifact WHERE model = ? AND user_code = ? AND (expires_at IS NULL OR expires_at > ?)'),
    consume: db.prepare('UPDATE oidc_artifact SET consumed_at = ? WHERE model = ? AND id = ? AND consumed_at IS NULL'),
    // A rotation chain: the refresh tokens of one grant sharing the first token's issue time (iiat).
    refreshTokenState: db.prepare(`SELECT grant_id, consumed_at, json_extract(payload, '$.iiat') AS chain,
      coalesce(json_extract(payload, '$.rotations'), 0) AS rotations
      FROM oidc_artifact WHERE model = 'RefreshToken' AND id = ? AND (expires_at IS NULL OR expires_at > ?)`),
    laterRefreshTokenUsed: db.prepare(`SELECT 1 FROM oidc_artifact WHERE model = 'RefreshToken' AND grant_id = ? AND json_extract(payload, '$.iiat') IS ?
      AND consumed_at IS NOT NULL AND coalesce(json_extract(payload, '$.rotations'), 0) > ? LIMIT 1`),
    dropUnusedSuccessors: db.prepare(`DELETE FROM oidc_artifact WHERE model = 'RefreshToken' AND grant_id = ? AND json_extract(payload, '$.iiat') IS ?
      AND consumed_at IS NULL AND coalesce(json_extract(payload, '$.rotations'), 0) > ?`),
    exists: db.prepare('SELECT grant_id FROM oidc_artifact WHERE model = ? AND id = ?'),
    destroy: db.prepare('DELETE FROM oidc_artifact WHERE model = ? AND id = ?'),
    revokeByGrantId: db.prepare('DELETE FROM oidc_artifact WHERE model = ? AND grant_id = ?'),
    revokeGrant: db.prepare(`DELETE FROM oidc_artifact WHERE (grant_id = ? AND model IN (${[...GRANT_MEMBERS].map(() => '?').join(',')})) OR (model = 'Grant' AND id = ?)`),
    sweep: db.prepare('DELETE FROM oidc_artifact WHERE expires_at IS NOT NULL AND expires_at < ?'),
    listKeys: db.prepare('SELECT kid, alg, jwk, created_at, retired_at, activates_at FROM signing_key ORDER BY coalesce(activates_at, created_at) DESC, created_at DESC, rowid DESC'),
    activeKeyOf: db.prepare(`SELECT 1 FROM signing_key WHERE alg = ?1 AND coalesce(activates_at, created_at) <= ?2
      AND (retired_at IS NULL OR retired_at > ?2) LIMIT 1`),
    addKey: db.prepare('INSERT INTO signing_key (kid, alg, jwk, created_at, retired_at, activates_at) VALUES (?, ?, ?, ?, ?, ?)'),
    retireKeys: db.prepare('UPDATE signing_key SET retired_at = ?1 WHERE kid <> ?2 AND (retired_at IS NULL OR retired_at > ?1)'),
    deleteKey: db.prepare('DELETE FROM signing_key WHERE kid = ?'),
    setSetting: db.prepare('INSERT INTO setting (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING'),
    getSetting: db.prepare('SELECT value FROM setting WHERE name = ?'),
    // A window is open from its start for its length; one starting ahead of the clock (beyond the
    // instances' skew) was stamped before the clock stepped back: stale, as a closed one.
    attempts: db.prepare('SELECT count, window_start FROM login_failure WHERE key = ?1 AND window_start > ?2 AND window_start <= ?3'),
    countAttempt: db.prepare(`INSERT INTO login_failure (key, count, window_start) VALUES (?1, 1, ?2)
      ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN window_start <= ?3 OR window_start > ?4 THEN 1 ELSE count + 1 END,
        window_start = CASE WHEN window_start <= ?3 OR window_start > ?4 THEN excluded.window_start ELSE window_start END
      RETURNING count`),
    releaseAttempt: db.prepare('UPDATE login_failure SET count = count - 1 WHERE key = ? AND count > 0'),
    clearAttempts: db.prepare('DELETE FROM login_failure WHERE key = ?'),
    sweepAttempts: db.prepare('DELETE FROM login_failure WHERE window_start < ?'),
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
    probe: db.prepare("INSERT INTO setting (name, value) VALUES ('health-probe', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value"),
  };

  const row = (r: Record<string, unknown> | undefined): Payload | undefined => {
    if (!r) return undefined;
    const payload = JSON.parse(r['payload'] as string) as Payload;
    if (r['consumed_at'] != null) payload['consumed'] = r['consumed_at'];
    return payload;
  };

  const sweep = () => {
    q.sweep.run(now() - SQLITE_EXPIRED_ROW_GRACE_SECONDS);
    q.sweepAttempts.run(now() - 24 * 3600);
  };
  const inTransaction = <T>(fn: () => T): T => {
    q.begin.run();
    try {
      const result = fn();
      q.commit.run();
      return result;
    } catch (err) {
      if (db.isTransaction) q.rollback.run();
      throw err;
    }
  };
  try {
    sweep();
  } catch (err) {
    // A full or read-only volume must not keep the IdP from starting: /readyz says why it is not ready.
    if (!(err as { errcode?: number }).errcode) throw err;
  }
  const sweepEvery = opts.sweepIntervalSeconds ?? SQLITE_SWEEP_INTERVAL_SECONDS;
  const sweeper = sweepEvery > 0 ? setInterval(() => {
    try {
      sweep();
    } catch {
      // retried at the next interval; /readyz reports the cause meanwhile
    }
  }, sweepEvery * 1000) : undefined;
  sweeper?.unref();

  const store: Store = {
    async upsert(model, id, payload, expiresIn) {
      const expiresAt = typeof expiresIn === 'number' ? now() + expiresIn : null;
      q.upsert.run(model, id, JSON.stringify(payload), (payload['grantId'] as string) ?? null, (payload['uid'] as string) ?? null,
        (payload['userCode'] as string) ?? null, expiresAt);
    },
    async find(model, id) {
      return row(q.find.get(model, id, now()));
    },
    async findByUid(model, uid) {
      return row(q.findByUid.get(model, uid, now()));
    },
    async findByUserCode(model, userCode) {
      return row(q.findByUserCode.get(model, userCode, now()));
    },
    async consume(model, id): Promise<ConsumeOutcome> {
      if (Number(q.consume.run(now(), model, id).changes) === 1) return 'consumed';
      return q.exists.get(model, id) ? 'already-consumed' : 'not-found';
    },
    async reusableWithinInterval(id, intervalSeconds, claim) {
      return inTransaction(() => {
        const t = now();
        const state = q.refreshTokenState.get(id, t);
        const consumedAt = state?.['consumed_at'];
        if (!state || consumedAt == null || !withinReuseInterval(t - Number(consumedAt), intervalSeconds)) return false;
        const grantId = state['grant_id'] as string;
        const chain = (state['chain'] ?? null) as number | null;
        const rotations = Number(state['rotations']);
        if (q.laterRefreshTokenUsed.get(grantId, chain, rotations)) return false;
        if (claim) q.dropUnusedSuccessors.run(grantId, chain, rotations);
        return true;
      });
    },
    async destroy(model, id) {
      q.destroy.run(model, id);
    },
    async revokeByGrantId(model, grantId) {
      q.revokeByGrantId.run(model, grantId);
    },
    async revokeGrant(grantId) {
      q.revokeGrant.run(grantId, ...GRANT_MEMBERS, grantId);
    },
    async grantIdOf(model, id) {
      return (q.exists.get(model, id)?.['grant_id'] as string | null) ?? undefined;
    },
    async listSigningKeys() {
      return q.listKeys.all().map((r) => ({
        kid: r['kid'] as string,
        alg: r['alg'] as string,
        jwk: JSON.parse(r['jwk'] as string),
        createdAt: Number(r['created_at']),
        activatesAt: Number(r['activates_at'] ?? r['created_at']),
        retiredAt: r['retired_at'] == null ? null : Number(r['retired_at']),
      }));
    },
    async addSigningKey(key: StoredSigningKey) {
      q.addKey.run(key.kid, key.alg, JSON.stringify(key.jwk), key.createdAt, key.retiredAt, key.activatesAt);
    },
    async addSigningKeyRetiringOthers(key: StoredSigningKey, { unlessActive }) {
      // IMMEDIATE: the check and the writes hold the write lock, also against another process on the file.
      return inTransaction(() => {
        if (unlessActive && q.activeKeyOf.get(key.alg, key.activatesAt)) return false;
        q.addKey.run(key.kid, key.alg, JSON.stringify(key.jwk), key.createdAt, key.retiredAt, key.activatesAt);
        q.retireKeys.run(key.activatesAt, key.kid);
        return true;
      });
    },
    async retireSigningKeysExcept(kid, at) {
      q.retireKeys.run(at, kid);
    },
    async deleteSigningKey(kid) {
      q.deleteKey.run(kid);
    },
    async getOrSetSetting(name, value) {
      q.setSetting.run(name, value);
      return q.getSetting.get(name)!['value'] as string;
    },
    async reserveAttempt(counters, windowSeconds): Promise<AttemptReservation> {
      // One write transaction: atomic in this process (the calls below are synchronous) and
      // against any other process on the same file (IMMEDIATE takes the write lock first).
      const t = now();
      const windowOpen = t - windowSeconds;
      const latestStart = t + INSTANCE_CLOCK_SKEW_SECONDS;
      q.begin.run();
      try {
        for (const { key, limit } of counters) {
          const current = q.attempts.get(key, windowOpen, latestStart);
          if (limit !== undefined && current && Number(current['count']) >= limit) {
            q.rollback.run();
            return { granted: false, retryAfterSeconds: Math.max(1, Number(current['window_start']) + windowSeconds - t) };
          }
        }
        const counts = counters.map(({ key }) => Number(q.countAttempt.get(key, t, windowOpen, latestStart)!['count']));
        q.commit.run();
        return { granted: true, counts };
      } catch (err) {
        if (db.isTransaction) q.rollback.run();
        throw err;
      }
    },
    async releaseAttempt(key) {
      q.releaseAttempt.run(key);
    },
    async clearAttempts(key) {
      q.clearAttempts.run(key);
    },
    async health() {
      const gone = databaseFileGone(opened);
      if (gone) return { ok: false, reason: gone };
      try {
        const fs = statfsSync(opts.dataDir);
        const free = fs.bavail * fs.bsize;
        const needed = opts.minFreeBytes ?? 0;
        if (free < needed) return { ok: false, reason: `${opts.dataDir}: ${Math.floor(free / 1048576)} MiB free, needs ${Math.ceil(needed / 1048576)} MiB` };
        q.probe.run(String(now()));
        return { ok: true };
      } catch (err) {
        return { ok: false, reason: describeDataDirError(opts.dataDir, err) };
      }
    },
    async close() {
      if (sweeper) clearInterval(sweeper);
      db.close();
    },
  };
  // The file deleted or replaced under this process: a write would go to a file nobody opens again
  // (lost at the next restart), so every write is refused (503) and /readyz says why until a restart.
  for (const name of WRITES) {
    const write = store[name] as (...args: unknown[]) => Promise<unknown>;
    (store as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      const gone = databaseFileGone(opened);
      if (gone) throw new StoreUnavailableError(gone);
      return write(...args);
    };
  }
  return store;
}

/** The store's methods that write. */
const WRITES = ['upsert', 'consume', 'reusableWithinInterval', 'destroy', 'revokeByGrantId', 'revokeGrant', 'addSigningKey',
  'addSigningKeyRetiringOthers', 'retireSigningKeysExcept', 'deleteSigningKey', 'getOrSetSetting', 'reserveAttempt', 'releaseAttempt',
  'clearAttempts'] as const satisfies ReadonlyArray<keyof Store>;
