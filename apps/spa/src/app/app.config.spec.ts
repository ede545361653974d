import { ApplicationInitStatus } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { FakeAuthSession } from '../testing/fake-auth-session';
import { appConfig } from './app.config';
import { AuthSession } from './auth/auth-session';
import { RENDER_WHILE_RESTORING } from './auth/render-while-restoring';
import { FirstPageData } from './core/first-page-data';

/** A session whose restore ends when the test says so. */
class SlowSession extends FakeAuthSession {
  finish!: () => void;
  override initialize(): Promise<void> {
    return new Promise((resolve) => {
      this.finish = () => {
        this.signIn();
        resolve();
      };
    });
  }
}

describe('appConfig: the session restored at start-up', () => {
  let auth: SlowSession;

  function start(renderWhileRestoring: boolean): ApplicationInitStatus {
    auth = new SlowSession();
    const session = [{ provide: AuthSession, useValue: auth }, ...(renderWhileRestoring ? [{ provide: RENDER_WHILE_RESTORING, useValue: true }] : [])];
    TestBed.configureTestingModule({ providers: appConfig(session).providers });
    return TestBed.inject(ApplicationInitStatus);
  }

  it('waits for the session before the app starts (token mode), then asks for the page\'s data', async () => {
    const status = start(false);
    expect(status.done).toBe(false);
    auth.finish();
    await status.donePromise;
    expect(auth.calls).toEqual([{ path: '/api/UserOne' }]);
  });

  it('starts the app while the session is restored when the mode allows it (BFF mode), and asks for the page\'s data once it is', async () => {
    const status = start(true);
    await status.donePromise;
    expect(status.done).toBe(true);
    expect(auth.calls).toEqual([]);
    auth.finish();
    await vi.waitFor(() => expect(auth.calls).toEqual([{ path: '/api/UserOne' }]));
    expect(TestBed.inject(FirstPageData).take('/api/UserOne')).toBeDefined();
  });
});
