import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { OidcSecurityService, provideAuth } from 'angular-auth-oidc-client';
import { firstValueFrom } from 'rxjs';
import { testRuntimeConfig } from '../../../testing/runtime-config';
import { buildOidcConfig, OIDC_CONFIG_ID } from './oidc-config';

// The real library reads discovery with the configuration this app builds, for both forms of the
// issuer: the embedded IdP's default and Auth0's, which ends with '/'.
describe('buildOidcConfig with the real library', () => {
  // The library keeps the discovered endpoints in storage and would answer from there.
  beforeEach(() => {
    localStorage.clear();
    sessionStorage.clear();
  });

  for (const issuer of ['http://localhost:4400', 'http://localhost:4400/']) {
    for (const authority of ['http://localhost:4400', 'http://localhost:4400/']) {
      it(`authority ${authority} reads the discovery of issuer ${issuer}`, async () => {
        TestBed.configureTestingModule({
          providers: [provideHttpClient(), provideHttpClientTesting(), provideAuth({ config: buildOidcConfig({ ...testRuntimeConfig, authority }) })],
        });
        const backend = TestBed.inject(HttpTestingController);
        const loaded = firstValueFrom(TestBed.inject(OidcSecurityService).preloadAuthWellKnownDocument(OIDC_CONFIG_ID));
        backend.expectOne('http://localhost:4400/.well-known/openid-configuration').flush({
          issuer, authorization_endpoint: 'http://localhost:4400/authorize', token_endpoint: 'http://localhost:4400/oauth/token',
          jwks_uri: 'http://localhost:4400/.well-known/jwks.json',
        });
        const endpoints = await loaded;
        expect(endpoints.issuer).toBe(issuer);
        expect(endpoints.tokenEndpoint).toBe('http://localhost:4400/oauth/token');
        backend.verify();
      });
    }
  }
});
