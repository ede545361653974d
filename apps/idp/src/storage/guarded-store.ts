// Turns a store's outage errors (Redis unreachable, disk full, read-only volume) into
// StoreUnavailableError, which every route answers with 503 and Retry-After instead of a 500.
// Logs one line when the store becomes unavailable and one when it serves again, not one per request.
import type { Logger } from '../log.ts';
import { StoreUnavailableError, type Store } from './store.ts';

/** Returns why an error means the store is unavailable, or undefined for any other error. */
export type OutageClassifier = (err: unknown) => string | undefined;

export function guardStore(store: Store, classify: OutageClassifier, logger: Logger): Store {
  let failing: { reason: string; failures: number } | undefined;
  const guarded = {} as Record<string, unknown>;
  for (const [name, method] of Object.entries(store) as Array<[string, (...args: unknown[]) => Promise<unknown>]>) {
    guarded[name] = async (...args: unknown[]) => {
      try {
        const result = await method(...args);
        if (failing && name !== 'health') {
          logger.log('info', 'store_recovered', { failedOperations: failing.failures });
          failing = undefined;
        }
        return result;
      } catch (err) {
        const reason = err instanceof StoreUnavailableError ? err.reason : classify(err);
        if (reason === undefined) throw err;
        if (!failing) logger.log('error', 'store_unavailable', { reason, operation: name });
        failing = { reason, failures: (failing?.failures ?? 0) + 1 };
        throw err instanceof StoreUnavailableError ? err : new StoreUnavailableError(reason, { cause: err });
      }
    };
  }
  return guarded as unknown as Store;
}
