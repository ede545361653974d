// Opens the configured session store: SQLite in the data directory, or Redis.
import type { BffConfig } from '../config.ts';
import { openRedisSessionStore, type RedisStoreLog } from './redis-session-store.ts';
import type { SessionStore } from './session-store.ts';
import { openSqliteSessionStore } from './sqlite-session-store.ts';

export async function openSessionStore(config: BffConfig, now: () => number, log?: RedisStoreLog): Promise<SessionStore> {
  if (config.BFF_STORE === 'sqlite') return openSqliteSessionStore(config.BFF_DATA_DIR, now, config.BFF_SQLITE_SYNCHRONOUS);
  const durability = !config.BFF_REDIS_DURABILITY_CHECK ? 'off' : config.BFF_PROFILE === 'production' ? 'require' : 'warn';
  return openRedisSessionStore(config.BFF_REDIS_URL, log, durability);
}
