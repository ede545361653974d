// oidc-client-ts with its defaults (discovery, sessionStorage), against the embedded IdP; only what
// every client must say is set, plus Auth0's `audience` for the API and, for the tests,
// loadUserInfo: true (the default of its 2.x line, false since 3.0), so that the profile comes from
// userinfo too (the page server's configuration says; the bench keeps the library's default).
/* global oidc, peerShared */
(async () => {
  const cfg = await peerShared.config();
  const redirectUri = `${location.origin}${location.pathname}`;
  const manager = new oidc.UserManager({
    authority: cfg.issuer,
    client_id: cfg.clientIds.oidcClientTs,
    redirect_uri: redirectUri,
    post_logout_redirect_uri: redirectUri,
    scope: cfg.scope,
    extraQueryParams: { audience: cfg.audience },
    loadUserInfo: cfg.oidcClientTsLoadUserInfo,
    // The IdP answers a revocation with an empty 200 (RFC 7009 §2.2: the body is not read), sent as
    // text/plain; the library insists on JSON unless told otherwise.
    revokeTokenAdditionalContentTypes: ['text/plain'],
  });
  const api = async () => {
    const user = await manager.getUser();
    return peerShared.callApi(cfg, user?.access_token ?? '');
  };
  const show = async () => {
    const user = await manager.getUser();
    peerShared.show('user', user ? user.profile.name ?? user.profile.sub : '');
    if (user?.access_token) await api();
  };
  window.peer = {
    manager,
    api,
    login: () => manager.signinRedirect(),
    loginWithPopup: async () => { await manager.signinPopup(); await show(); },
    logout: () => manager.signoutRedirect(),
  };
  peerShared.wire(window.peer);
  await peerShared.run(async () => {
    const query = new URLSearchParams(location.search);
    if (query.has('code') && query.has('state')) {
      await manager.signinCallback();
      history.replaceState(null, '', redirectUri);
    }
    await show();
  });
  document.body.dataset.ready = 'true';
})();
