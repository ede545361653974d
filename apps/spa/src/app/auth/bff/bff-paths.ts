/** The BFF's endpoints, on the page's own origin (see the BFF contract in the README). */
export const BFF_PATHS = {
  login: '/bff/login',
  user: '/bff/user',
  renew: '/bff/renew',
  logout: '/bff/logout',
} as const;
