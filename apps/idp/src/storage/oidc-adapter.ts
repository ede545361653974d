// oidc-provider's adapter interface over a Store. Consumption is where replay detection lives:
// oidc-provider checks `consumed` and then consumes across two awaits, so parallel redemptions
// of one code or refresh token would all pass its check. The store's atomic `consume` lets only
// the first through; every loser is treated as a replay: the grant and all its tokens are revoked.
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Store } from './store.ts';

export type ReplayListener = (model: string, grantId: string | undefined) => void;

export function createAdapterFactory(store: Store, onReplay: ReplayListener): (name: string) => Adapter {
  return (model: string): Adapter => ({
    async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
      await store.upsert(model, id, payload as Record<string, unknown>, expiresIn);
    },
    async find(id: string) {
      return (await store.find(model, id)) as AdapterPayload | undefined;
    },
    async findByUid(uid: string) {
      return (await store.findByUid(model, uid)) as AdapterPayload | undefined;
    },
    async findByUserCode(userCode: string) {
      return (await store.findByUserCode(model, userCode)) as AdapterPayload | undefined;
    },
    async consume(id: string) {
      const outcome = await store.consume(model, id);
      if (outcome === 'consumed') return;
      const grantId = await store.grantIdOf(model, id);
      if (grantId) await store.revokeGrant(grantId);
      onReplay(model, grantId);
      throw new errors.InvalidGrant(`${model === 'RefreshToken' ? 'refresh token' : 'grant'} already used`);
    },
    async destroy(id: string) {
      await store.destroy(model, id);
    },
    async revokeByGrantId(grantId: string) {
      await store.revokeByGrantId(model, grantId);
    },
  });
}
