/**
 * One configuration only; its id names the storage entry and the cross-tab refresh lock. Kept
 * apart from oidc-config.ts, which imports the library, so the initial bundle can use it.
 */
export const OIDC_CONFIG_ID = 'spa';
