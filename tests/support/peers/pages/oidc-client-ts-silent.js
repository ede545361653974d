// oidc-client-ts's silent callback page: where the hidden iframe of the library's signoutSilent
// comes back to. It hands the answer to the page that opened the iframe (signoutSilentCallback:
// a silent logout sends no state to dispatch on, so signoutCallback would not) and shows nothing.
/* global oidc, peerShared */
(async () => {
  const cfg = await peerShared.config();
  const manager = new oidc.UserManager({
    authority: cfg.issuer,
    client_id: cfg.clientIds.oidcClientTs,
    redirect_uri: `${location.origin}/${cfg.clientIds.oidcClientTs}.html`,
  });
  await manager.signoutSilentCallback();
})();
