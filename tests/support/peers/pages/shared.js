// What both peer pages share: their configuration (from the page server), the buttons, and the
// API call whose answer is shown on the page (where a test or the benchmark reads it).
window.peerShared = {
  async config() {
    return (await fetch('/config.json')).json();
  },
  show(id, text) {
    document.getElementById(id).textContent = text;
  },
  async run(action) {
    try {
      await action();
    } catch (err) {
      this.show('error', `${err.error ?? err.name ?? 'Error'}: ${err.error_description ?? err.message}`);
      throw err;
    }
  },
  async callApi(cfg, token) {
    const res = await fetch(`${cfg.api}/api/UserOne`, { headers: { authorization: `Bearer ${token}` } });
    const body = res.ok ? JSON.stringify(await res.json()) : '';
    this.show('api', `${res.status} ${body}`.trim());
    return { status: res.status, body };
  },
  wire(peer) {
    for (const [id, action] of [['login', peer.login], ['login-popup', peer.loginWithPopup], ['logout', peer.logout]]) {
      document.getElementById(id).addEventListener('click', () => void this.run(action));
    }
  },
};
