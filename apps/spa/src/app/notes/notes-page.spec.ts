import { TestBed, type ComponentFixture } from '@angular/core/testing';
import { FakeAuthSession } from '../../testing/fake-auth-session';
import type { ApiRequest } from '../auth/auth-session';
import { AuthSession } from '../auth/auth-session';
import { ApiError } from '../auth/problem';
import type { Note } from './note';
import { NotesPage } from './notes-page';

/** A tiny in-memory API behind the fake session. */
function notesApi(initial: Note[]): (request: ApiRequest) => Promise<unknown> {
  let notes = [...initial];
  let next = 100;
  return async ({ method = 'GET', path, body }) => {
    if (method === 'GET' && path === '/api/notes') return notes;
    if (method === 'POST' && path === '/api/notes') {
      const note = { id: String(next++), text: (body as { text: string }).text, createdAt: new Date().toISOString() };
      notes.push(note);
      return note;
    }
    if (method === 'DELETE') {
      notes = notes.filter((n) => `/api/notes/${n.id}` !== path);
      return null;
    }
    throw new Error(`unexpected ${method} ${path}`);
  };
}

describe('NotesPage', () => {
  let auth: FakeAuthSession;
  let fixture: ComponentFixture<NotesPage>;
  let element: HTMLElement;

  beforeEach(() => {
    auth = new FakeAuthSession();
    TestBed.configureTestingModule({ imports: [NotesPage], providers: [{ provide: AuthSession, useValue: auth }] });
  });

  async function settle(): Promise<void> {
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(element.textContent).not.toContain('Loading');
    });
  }

  async function render(): Promise<void> {
    fixture = TestBed.createComponent(NotesPage);
    element = fixture.nativeElement as HTMLElement;
    await settle();
  }

  const texts = () => [...element.querySelectorAll('[data-testid="notes"] li .text')].map((e) => e.textContent);

  it('asks to log in when signed out', async () => {
    await render();
    expect(element.textContent).toContain('Log in to read and write your notes.');
    expect(auth.calls).toEqual([]);
  });

  it('lists, adds and deletes notes through the API', async () => {
    auth.signIn();
    auth.api = notesApi([{ id: '1', text: 'first' }]);
    await render();
    expect(texts()).toEqual(['first']);

    const input = element.querySelector('input#note-text') as HTMLInputElement;
    expect(element.querySelector('label[for="note-text"]')?.textContent).toBe('New note');
    input.value = 'second';
    input.dispatchEvent(new Event('input'));
    (element.querySelector('form') as HTMLFormElement).dispatchEvent(new Event('submit'));
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(texts()).toEqual(['first', 'second']);
    });
    expect(auth.calls).toContainEqual({ method: 'POST', path: '/api/notes', body: { text: 'second' } });
    expect(element.querySelector('[data-testid="notes-status"]')?.textContent).toContain('Note added: second');
    expect(input.value).toBe('');

    const deleteFirst = element.querySelector('button[aria-label="Delete note: first"]') as HTMLButtonElement;
    deleteFirst.click();
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(texts()).toEqual(['second']);
    });
    expect(auth.calls).toContainEqual({ method: 'DELETE', path: '/api/notes/1' });
  });

  it('refuses an empty note without calling the API', async () => {
    auth.signIn();
    auth.api = notesApi([]);
    await render();
    const callsBefore = auth.calls.length;
    (element.querySelector('form') as HTMLFormElement).dispatchEvent(new Event('submit'));
    await fixture.whenStable();
    expect(element.querySelector('#note-text-error')?.textContent).toContain('Write something first.');
    expect(element.querySelector('#note-text')?.getAttribute('aria-invalid')).toBe('true');
    expect(auth.calls.length).toBe(callsBefore);
  });

  it('shows why the API refused', async () => {
    auth.signIn();
    auth.api = async () => {
      throw new ApiError({ kind: 'session-ended' }, 401);
    };
    await render();
    expect(element.querySelector('[role="alert"]')?.textContent).toContain('Your session has ended');
  });
});
