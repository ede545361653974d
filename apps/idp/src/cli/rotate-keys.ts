// `npm run rotate-keys -w apps/idp`: publishes a new signing key now; it signs from
// IDP_KEY_ACTIVATION_DELAY seconds later (default 45 s), once every running instance has reloaded
// its keys (IDP_KEY_RELOAD_INTERVAL) and every API may have refetched the JWKS. Previous keys stay
// published until every token they signed has expired. `-- --now` switches at once (a
// compromised key): APIs that have not refetched the JWKS refuse the new tokens for a moment.
import { ConfigError } from '@suite/config';
import { readIdpConfig } from '../config.ts';
import type { SigningAlg } from '../defaults.ts';
import { createLogger } from '../log.ts';
import { rotateSigningKey } from '../signing-keys.ts';
import { openStore } from '../storage/open-store.ts';

try {
  const config = readIdpConfig();
  const immediately = process.argv.includes('--now');
  const store = await openStore(config, { logger: createLogger(config.IDP_LOG_LEVEL) });
  const key = await rotateSigningKey(store, config.IDP_SIGNING_ALG as SigningAlg, immediately ? 0 : config.IDP_KEY_ACTIVATION_DELAY);
  const published = (await store.listSigningKeys()).map((k) => `${k.kid} (${k.kid === key.kid ? 'new' : 'retiring'})`);
  await store.close();
  console.log(`New ${key.alg} signing key ${key.kid}, published now, signing from ${new Date(key.activatesAt * 1000).toISOString()}. Published keys: ${published.join(', ')}`);
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : `rotate-keys failed: ${(err as Error).message}`);
  process.exit(2);
}
