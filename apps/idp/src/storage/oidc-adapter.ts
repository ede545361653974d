// oidc-provider's adapter interface over a Store. Consumption is where replay detection lives:
// oidc-provider checks `consumed` and then consumes across two awaits, so parallel redemptions
// of one code or refresh token would all pass its check. The store's atomic `consume` lets only
// the first through; every loser is treated as a replay: the grant and all its tokens are revoked.
// One exception, the refresh-token reuse interval (docs/decisions/0010-refresh-token-reuse-interval.md):
// a refresh token rotated moments ago whose successor nobody has used yet may be redeemed again,
// because its response was most likely lost; the retry gets a new successor and the unused one dies.
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { ReplayDetected } from './replay-detected.ts';
import type { Store } from './store.ts';

export type ReplayListener = (model: string, grantId: string | undefined) => void;

export interface AdapterOptions {
  /** Seconds after a rotation during which the previous refresh token may be redeemed again; 0: never. */
  refreshTokenReuseIntervalSeconds?: number;
  /** Called when a retry within the interval is let through. */
  onReuseWithinInterval?: (grantId: string | undefined) => void;
}

export function createAdapterFactory(store: Store, onReplay: ReplayListener, opts: AdapterOptions = {}): (name: string) => Adapter {
  const interval = opts.refreshTokenReuseIntervalSeconds ?? 0;
  return (model: string): Adapter => {
    const reuseApplies = model === 'RefreshToken' && interval > 0;
    return {
      async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
        await store.upsert(model, id, payload as Record<string, unknown>, expiresIn);
      },
      async find(id: string) {
        const payload = await store.find(model, id);
        // oidc-provider revokes the grant for any consumed refresh token it finds: show one that
        // may be retried as unused; `consume` below decides atomically whether it really may.
        if (payload?.['consumed'] && reuseApplies && await store.reusableWithinInterval(id, interval, false)) {
          const { consumed: _, ...unused } = payload;
          return unused as AdapterPayload;
        }
        return payload as AdapterPayload | undefined;
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
        if (outcome === 'already-consumed' && reuseApplies && await store.reusableWithinInterval(id, interval, true)) {
          opts.onReuseWithinInterval?.(grantId);
          return;
        }
        if (grantId) await store.revokeGrant(grantId);
        onReplay(model, grantId);
        throw new ReplayDetected(model, grantId);
      },
      async destroy(id: string) {
        await store.destroy(model, id);
      },
      async revokeByGrantId(grantId: string) {
        await store.revokeByGrantId(model, grantId);
      },
    };
  };
}
