import { TestBed } from '@angular/core/testing';
import { FakeAuthSession } from '../../testing/fake-auth-session';
import { AuthSession } from '../auth/auth-session';
import { FirstPageData } from './first-page-data';

describe('FirstPageData', () => {
  let auth: FakeAuthSession;
  let data: FirstPageData;

  beforeEach(() => {
    auth = new FakeAuthSession();
    TestBed.configureTestingModule({ providers: [{ provide: AuthSession, useValue: auth }] });
    data = TestBed.inject(FirstPageData);
  });

  it('sends the GET as the signed-in user at once and hands its answer over once', async () => {
    auth.signIn();
    auth.api = async () => ['user one data'];
    data.start('/api/UserOne');
    expect(auth.calls).toEqual([{ path: '/api/UserOne' }]);
    expect(data.take('/api/Other')).toBeUndefined();
    expect(await data.take('/api/UserOne')).toEqual(['user one data']);
    expect(data.take('/api/UserOne')).toBeUndefined();
  });

  it('sends nothing when signed out', () => {
    data.start('/api/UserOne');
    expect(auth.calls).toEqual([]);
    expect(data.take('/api/UserOne')).toBeUndefined();
  });

  it('passes a failed call on to the page that takes it', async () => {
    auth.signIn();
    auth.api = async () => {
      throw new Error('403');
    };
    data.start('/api/UserOne');
    await expect(data.take('/api/UserOne')).rejects.toThrow('403');
  });

  it('hands over an answer that has arrived, once, and keeps one still on its way for take', async () => {
    auth.signIn();
    let answer!: (value: unknown) => void;
    auth.api = () => new Promise((resolve) => (answer = resolve));
    data.start('/api/UserOne');
    expect(data.takeSettled('/api/UserOne')).toBeUndefined();
    answer(['user one data']);
    await vi.waitFor(() => expect(data.takeSettled('/api/UserOne')).toEqual({ ok: true, value: ['user one data'] }));
    expect(data.takeSettled('/api/UserOne')).toBeUndefined();
    expect(data.take('/api/UserOne')).toBeUndefined();
  });

  it('hands over a call that has failed as its error', async () => {
    auth.signIn();
    const error = new Error('403');
    auth.api = async () => {
      throw error;
    };
    data.start('/api/UserOne');
    await vi.waitFor(() => expect(data.takeSettled('/api/UserOne')).toEqual({ ok: false, error }));
  });

  it('forgets an answer nobody took', () => {
    auth.signIn();
    data.start('/api/UserOne');
    data.forget();
    expect(data.take('/api/UserOne')).toBeUndefined();
  });
});
