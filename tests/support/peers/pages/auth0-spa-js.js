// Auth0's SPA SDK exactly as its documentation shows it, against the embedded IdP: `domain` is the
// IdP's origin, refresh tokens rotate, the API is called with the access token.
/* global auth0, peerShared */
(async () => {
  const cfg = await peerShared.config();
  const redirectUri = `${location.origin}${location.pathname}`;
  const client = new auth0.Auth0Client({
    domain: cfg.idpOrigin,
    clientId: cfg.clientIds.auth0SpaJs,
    authorizationParams: { redirect_uri: redirectUri, audience: cfg.audience, scope: cfg.scope },
    useRefreshTokens: true,
  });
  const api = async () => peerShared.callApi(cfg, await client.getTokenSilently());
  const show = async () => {
    const user = await client.getUser();
    peerShared.show('user', user ? user.name ?? user.sub : '');
    if (user) await api();
  };
  window.peer = {
    client,
    api,
    login: () => client.loginWithRedirect(),
    loginWithPopup: async () => { await client.loginWithPopup(); await show(); },
    logout: () => client.logout({ logoutParams: { returnTo: redirectUri } }),
  };
  peerShared.wire(window.peer);
  await peerShared.run(async () => {
    const query = new URLSearchParams(location.search);
    if (query.has('code') && query.has('state')) {
      await client.handleRedirectCallback();
      history.replaceState(null, '', redirectUri);
    }
    await show();
  });
  document.body.dataset.ready = 'true';
})();
