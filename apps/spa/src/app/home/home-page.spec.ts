import { TestBed } from '@angular/core/testing';
import { FakeAuthSession } from '../../testing/fake-auth-session';
import { AuthSession } from '../auth/auth-session';
import { ApiError } from '../auth/problem';
import { FirstPageData } from '../core/first-page-data';
import { HomePage, userDataLines } from './home-page';

describe('HomePage', () => {
  let auth: FakeAuthSession;

  beforeEach(() => {
    auth = new FakeAuthSession();
    TestBed.configureTestingModule({ imports: [HomePage], providers: [{ provide: AuthSession, useValue: auth }] });
  });

  async function render(): Promise<HTMLElement> {
    const fixture = TestBed.createComponent(HomePage);
    await fixture.whenStable();
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(fixture.nativeElement.textContent).not.toContain('Loading');
    });
    return fixture.nativeElement as HTMLElement;
  }

  it('offers log in and calls no API when signed out', async () => {
    const element = await render();
    (element.querySelector('button') as HTMLButtonElement).click();
    expect(auth.loginCalls).toBe(1);
    expect(auth.calls).toEqual([]);
  });

  it('shows the API\'s user data once signed in', async () => {
    auth.signIn();
    auth.api = async () => ['user one data'];
    const element = await render();
    expect(auth.calls).toEqual([{ path: '/api/UserOne' }]);
    expect(element.querySelector('[data-testid="user-data"]')?.textContent).toContain('user one data');
  });

  it('shows the answer of the call started at start-up instead of calling again, and calls again on reload', async () => {
    auth.signIn();
    auth.api = async () => ['user one data'];
    TestBed.inject(FirstPageData).start('/api/UserOne');
    auth.api = async () => ['fresh data'];
    const element = await render();
    expect(auth.calls).toEqual([{ path: '/api/UserOne' }]);
    expect(element.querySelector('[data-testid="user-data"]')?.textContent).toContain('user one data');
    [...element.querySelectorAll('button')].find((b) => b.textContent?.includes('Reload'))!.click();
    await vi.waitFor(() => expect(element.querySelector('[data-testid="user-data"]')?.textContent).toContain('fresh data'));
    expect(auth.calls).toEqual([{ path: '/api/UserOne' }, { path: '/api/UserOne' }]);
  });

  it('shows an answer that arrived before the page opened in the page\'s first render', async () => {
    auth.signIn();
    auth.api = async () => ['user one data'];
    TestBed.inject(FirstPageData).start('/api/UserOne');
    await new Promise((resolve) => setTimeout(resolve));
    const fixture = TestBed.createComponent(HomePage);
    fixture.detectChanges();
    expect((fixture.nativeElement as HTMLElement).querySelector('[data-testid="user-data"]')?.textContent).toContain('user one data');
    expect(auth.calls).toEqual([{ path: '/api/UserOne' }]);
  });

  it('tells a user without the API permission so (403)', async () => {
    auth.signIn({ name: 'Bob' });
    auth.api = async () => {
      throw new ApiError({ kind: 'forbidden' }, 403);
    };
    const element = await render();
    expect(element.querySelector('[role="alert"]')?.textContent).toContain('not allowed to use this API');
    expect(element.querySelector('[data-testid="user-data"]')).toBeNull();
  });

  it('reads the shapes the API may answer with', () => {
    expect(userDataLines(['user one data'])).toEqual(['user one data']);
    expect(userDataLines('x')).toEqual(['x']);
    expect(userDataLines({ data: ['a', 'b'] })).toEqual(['a', 'b']);
  });
});
