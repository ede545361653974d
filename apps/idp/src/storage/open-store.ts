import { systemClock, type Clock } from '../clock.ts';
import type { IdpConfig } from '../config.ts';
import { openSqliteStore } from './sqlite-store.ts';
import type { Store } from './store.ts';

export async function openStore(config: IdpConfig, clock: Clock = systemClock): Promise<Store> {
  if (config.IDP_STORE === 'redis') {
    const { openRedisStore } = await import('./redis-store.ts');
    return openRedisStore(config.IDP_REDIS_URL, { clock });
  }
  return openSqliteStore({ dataDir: config.IDP_DATA_DIR, synchronous: config.IDP_SQLITE_SYNCHRONOUS, clock });
}
