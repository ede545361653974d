import { SQLITE_CORRUPTED } from '@suite/process-shell';
import { systemClock, type Clock } from '../clock.ts';
import type { IdpConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import { guardStore } from './guarded-store.ts';
import { openSqliteStore, sqliteUnavailableReason } from './sqlite-store.ts';
import type { Store } from './store.ts';

export interface OpenStoreOptions {
  logger: Logger;
  clock?: Clock;
}

/**
 * Opens the configured store. Throws StoreUnavailableError (naming the path or URL and the cause)
 * when it cannot be reached or opened; a Redis without persistence is refused in production.
 */
export async function openStore(config: IdpConfig, opts: OpenStoreOptions): Promise<Store> {
  const clock = opts.clock ?? systemClock;
  if (config.IDP_STORE === 'redis') {
    const { openRedisStore, redisUnavailableReason } = await import('./redis-store.ts');
    const durability = !config.IDP_REDIS_DURABILITY_CHECK ? 'off' : config.IDP_PROFILE === 'production' ? 'require' : 'warn';
    const store = await openRedisStore(config.IDP_REDIS_URL, { logger: opts.logger, durability, clock });
    return guardStore(store, (err) => redisUnavailableReason(config.IDP_REDIS_URL, err), opts.logger);
  }
  const store = openSqliteStore({
    dataDir: config.IDP_DATA_DIR,
    synchronous: config.IDP_SQLITE_SYNCHRONOUS,
    minFreeBytes: config.IDP_DATA_DIR_MIN_FREE_MB * 1024 * 1024,
    clock,
  });
  // A statement that finds the file damaged makes the store unavailable until a restart, which
  // checks the whole file and refuses it: /readyz says so even while other pages still read.
  let damaged: string | undefined;
  const guarded = guardStore(store, (err) => {
    const reason = sqliteUnavailableReason(config.IDP_DATA_DIR, err);
    if (reason && SQLITE_CORRUPTED.has(((err as { errcode?: number }).errcode ?? 0) & 0xff)) damaged ??= reason;
    return reason;
  }, opts.logger);
  return { ...guarded, health: async () => (damaged ? { ok: false, reason: `${damaged}; restart to check the file` } : guarded.health()) };
}
