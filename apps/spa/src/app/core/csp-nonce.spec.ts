import { Component, CSP_NONCE } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { CSP_NONCE_META_NAME, provideCspNonce } from './csp-nonce';

@Component({ selector: 'app-styled', template: '<p>styled</p>', styles: 'p { color: rgb(1, 2, 3); }' })
class Styled {}

describe('provideCspNonce', () => {
  afterEach(() => document.querySelector(`meta[name="${CSP_NONCE_META_NAME}"]`)?.remove());

  function meta(content: string): void {
    const element = document.createElement('meta');
    element.name = CSP_NONCE_META_NAME;
    element.content = content;
    document.head.append(element);
  }

  it('gives Angular the nonce the server wrote into the page, which its style elements then carry', async () => {
    meta('r4nd0m-n0nce');
    TestBed.configureTestingModule({ imports: [Styled], providers: [provideCspNonce(document)] });
    expect(TestBed.inject(CSP_NONCE)).toBe('r4nd0m-n0nce');
    const fixture = TestBed.createComponent(Styled);
    await fixture.whenStable();
    const styles = [...document.querySelectorAll('style')].filter((s) => s.textContent?.includes('rgb(1, 2, 3)'));
    expect(styles.length).toBeGreaterThan(0);
    for (const style of styles) expect(style.getAttribute('nonce')).toBe('r4nd0m-n0nce');
  });

  it('gives none when the page has no nonce', () => {
    TestBed.configureTestingModule({ providers: [provideCspNonce(document)] });
    expect(TestBed.inject(CSP_NONCE)).toBeNull();
  });
});
