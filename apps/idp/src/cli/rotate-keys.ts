// `npm run rotate-keys -w apps/idp`: publishes a new signing key now; it signs from
// IDP_KEY_ACTIVATION_DELAY seconds later (default 45 s), once every running instance has reloaded
// its keys (IDP_KEY_RELOAD_INTERVAL) and every API may have refetched the JWKS. Previous keys stay
// published until every token they signed has expired. `-- --now` switches at once (a
// compromised key): APIs that have not refetched the JWKS refuse the new tokens for a moment.
//
// Run with the IdP's own environment: it rotates in the store that names (IDP_STORE, IDP_DATA_DIR
// or IDP_REDIS_URL). A store no IdP has started on (a data directory or Redis database other than
// the IdP's) is refused, never created: a rotation there would report success and change nothing.
// Any argument but `--now` is refused before the store is opened (`--nwo` must not rotate slowly).
// Exit codes: 0 rotated; 1 the store failed (nothing or the whole key written: one transaction);
// 2 refused before anything was written (arguments, configuration, not the IdP's store).
// Only the new key's id is printed, never a private key.
import { existsSync } from 'node:fs';
import { ConfigError, readArgumentsOrExit } from '@suite/config';
import { readIdpConfig } from '../config.ts';
import type { SigningAlg } from '../defaults.ts';
import { createLogger } from '../log.ts';
import { rotateSigningKey } from '../signing-keys.ts';
import { openStore } from '../storage/open-store.ts';
import { sqliteStoreFile } from '../storage/sqlite-store.ts';
import { StoreUnavailableError, type Store } from '../storage/store.ts';

const args = readArgumentsOrExit({
  name: 'rotate-keys',
  synopsis: 'npm run rotate-keys -w apps/idp [-- --now]',
  summary: 'Publishes a new signing key in the IdP\'s store (run it with the IdP\'s environment: IDP_STORE, IDP_DATA_DIR or IDP_REDIS_URL).\nIt signs IDP_KEY_ACTIVATION_DELAY seconds later, when every instance and API knows it.',
  options: { now: { type: 'boolean', doc: 'sign with the new key at once (a compromised key); APIs that have not refetched the JWKS refuse its tokens for a moment' } },
});

const EXIT = { rotated: 0, storeFailed: 1, refused: 2 } as const;

function fail(code: number, message: string): never {
  console.error(`rotate-keys: ${message}`);
  process.exit(code);
}

let config;
try {
  config = readIdpConfig();
} catch (err) {
  if (err instanceof ConfigError) fail(EXIT.refused, err.message);
  throw err;
}
const where = config.IDP_STORE === 'redis' ? 'IDP_REDIS_URL' : `IDP_DATA_DIR (${config.IDP_DATA_DIR})`;
if (config.IDP_STORE === 'sqlite' && !existsSync(sqliteStoreFile(config.IDP_DATA_DIR))) {
  fail(EXIT.refused, `no IdP database in ${where}: ${sqliteStoreFile(config.IDP_DATA_DIR)} does not exist. Run this with the IdP's environment (IDP_DATA_DIR); nothing was created.`);
}

let store: Store | undefined;
try {
  store = await openStore(config, { logger: createLogger(config.IDP_LOG_LEVEL) });
  if ((await store.listSigningKeys()).length === 0) {
    fail(EXIT.refused, `no signing key in the store of ${where}: no IdP has started on it (the IdP makes its first key itself). Run this with the IdP's environment; nothing was written.`);
  }
  const key = await rotateSigningKey(store, config.IDP_SIGNING_ALG as SigningAlg, args.now ? 0 : config.IDP_KEY_ACTIVATION_DELAY);
  const published = (await store.listSigningKeys()).map((k) => `${k.kid} (${k.kid === key.kid ? 'new' : 'retiring'})`);
  console.log(`New ${key.alg} signing key ${key.kid}, published now, signing from ${new Date(key.activatesAt * 1000).toISOString()}${args.now ? ' (at once: --now)' : ''}. Published keys: ${published.join(', ')}`);
} catch (err) {
  fail(EXIT.storeFailed, `failed: ${err instanceof StoreUnavailableError ? err.reason : (err as Error).message}`);
} finally {
  await store?.close();
}
