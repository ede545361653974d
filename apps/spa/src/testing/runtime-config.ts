import type { TokenModeConfig } from '../app/core/runtime-config';

/** The development defaults, as the SPA server serves them: the embedded IdP, the API on 5001. */
export const testRuntimeConfig: TokenModeConfig = {
  mode: 'token',
  authority: 'http://localhost:4400',
  clientId: 'spa',
  audience: 'https://auth0-api-spa',
  scope: 'openid profile offline_access auth0-user-api-spa',
  apiUrl: 'http://localhost:5001',
  redirectUrl: 'http://localhost:4200',
  renewBeforeExpirySeconds: 30,
};
