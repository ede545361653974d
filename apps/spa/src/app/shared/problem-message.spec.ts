import { TestBed } from '@angular/core/testing';
import { FakeAuthSession } from '../../testing/fake-auth-session';
import { AuthSession } from '../auth/auth-session';
import type { Problem } from '../auth/problem';
import { ProblemMessage } from './problem-message';

describe('ProblemMessage', () => {
  let auth: FakeAuthSession;

  beforeEach(() => {
    auth = new FakeAuthSession();
    TestBed.configureTestingModule({ imports: [ProblemMessage], providers: [{ provide: AuthSession, useValue: auth }] });
  });

  async function render(problem: Problem): Promise<HTMLElement> {
    const fixture = TestBed.createComponent(ProblemMessage);
    fixture.componentRef.setInput('problem', problem);
    await fixture.whenStable();
    return fixture.nativeElement as HTMLElement;
  }

  it('words each problem for the user, as an alert', async () => {
    const cases: Array<[Problem, RegExp]> = [
      [{ kind: 'session-ended' }, /session has ended.*log in again/is],
      [{ kind: 'forbidden' }, /not allowed to use this API/],
      [{ kind: 'api-unreachable' }, /API cannot be reached/],
      [{ kind: 'idp-unreachable' }, /identity provider cannot be reached/],
      [{ kind: 'sign-in-failed' }, /sign-in did not complete.*log in again/is],
      [{ kind: 'failed', detail: 'The API answered 500.' }, /went wrong.*answered 500/s],
    ];
    for (const [problem, text] of cases) {
      const element = await render(problem);
      expect(element.getAttribute('role')).toBe('alert');
      expect(element.textContent).toMatch(text);
    }
  });

  it('offers to log in again when the session has ended or a sign-in did not complete', async () => {
    const element = await render({ kind: 'session-ended' });
    (element.querySelector('button') as HTMLButtonElement).click();
    expect(auth.loginCalls).toBe(1);
    (( await render({ kind: 'sign-in-failed' })).querySelector('button') as HTMLButtonElement).click();
    expect(auth.loginCalls).toBe(2);
    expect((await render({ kind: 'forbidden' })).querySelector('button')).toBeNull();
  });
});
