// The smallest Angular application doing what the oidc-client-ts peer page does: AOT-compiled,
// zoneless (Angular's default, as in our SPA), one standalone component, no router, no HttpClient.
// The page's configuration is asked for at once, as the peer page's first statement does.
import { bootstrapApplication } from '@angular/platform-browser';
import { App, PEER_CONFIG, type PeerConfig } from './app';

const config: Promise<PeerConfig> = fetch('/config.json').then(async (res) => (await res.json()) as PeerConfig);

bootstrapApplication(App, { providers: [{ provide: PEER_CONFIG, useValue: config }] }).catch((err: unknown) => console.error(err));
