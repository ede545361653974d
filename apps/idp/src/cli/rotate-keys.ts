// `npm run rotate-keys -w apps/idp`: adds a new signing key that signs from now on. Previous keys
// stay published until every token they signed has expired. Running IdPs pick the change up
// within their key-reload interval (IDP_KEY_RELOAD_INTERVAL, 30 s), no restart needed.
import { ConfigError } from '@suite/config';
import { readIdpConfig } from '../config.ts';
import type { SigningAlg } from '../defaults.ts';
import { rotateSigningKey } from '../signing-keys.ts';
import { openStore } from '../storage/open-store.ts';

try {
  const config = readIdpConfig();
  const store = await openStore(config);
  const key = await rotateSigningKey(store, config.IDP_SIGNING_ALG as SigningAlg);
  const published = (await store.listSigningKeys()).map((k) => `${k.kid}${k.retiredAt === null ? ' (active)' : ' (retired)'}`);
  await store.close();
  console.log(`New ${key.alg} signing key ${key.kid}. Published keys: ${published.join(', ')}`);
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : `rotate-keys failed: ${(err as Error).message}`);
  process.exit(2);
}
