import { ChangeDetectionStrategy, Component, effect, inject, signal } from '@angular/core';
import { AuthSession } from '../auth/auth-session';
import { ApiError, type Problem } from '../auth/problem';
import { API_PATHS } from '../core/api-paths';
import { ProblemMessage } from '../shared/problem-message';
import { SignInPrompt } from '../shared/sign-in-prompt';
import { toNotes, type Note } from './note';

export const NOTE_MAX_LENGTH = 500;

@Component({
  selector: 'app-notes-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [ProblemMessage, SignInPrompt],
  templateUrl: './notes-page.html',
  styleUrl: './notes-page.css',
})
export class NotesPage {
  protected readonly auth = inject(AuthSession);
  protected readonly notes = signal<Note[] | null>(null);
  protected readonly problem = signal<Problem | null>(null);
  protected readonly status = signal('');
  protected readonly busy = signal(false);
  protected readonly maxLength = NOTE_MAX_LENGTH;

  protected readonly draft = signal('');
  protected readonly draftError = signal('');

  constructor() {
    effect(() => {
      if (this.auth.isAuthenticated()) void this.load();
    });
  }

  protected async load(): Promise<void> {
    await this.run(async () => this.notes.set(toNotes(await this.auth.callApi<unknown>({ path: API_PATHS.notes }))));
  }

  protected async add(event: Event): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const text = this.draft().trim();
    this.draftError.set(text === '' ? 'Write something first.' : text.length > NOTE_MAX_LENGTH ? `At most ${NOTE_MAX_LENGTH} characters.` : '');
    if (this.draftError()) return;
    await this.run(async () => {
      await this.auth.callApi({ method: 'POST', path: API_PATHS.notes, body: { text } });
      this.draft.set('');
      form.reset();
      this.notes.set(toNotes(await this.auth.callApi<unknown>({ path: API_PATHS.notes })));
      this.status.set(`Note added: ${text}`);
    });
  }

  protected async remove(note: Note): Promise<void> {
    await this.run(async () => {
      await this.auth.callApi({ method: 'DELETE', path: API_PATHS.note(note.id) });
      this.notes.update((notes) => notes?.filter((n) => n.id !== note.id) ?? null);
      this.status.set(`Note deleted: ${note.text}`);
    });
  }

  protected onDraftInput(event: Event): void {
    this.draft.set((event.target as HTMLInputElement).value);
    this.draftError.set('');
  }

  private async run(work: () => Promise<void>): Promise<void> {
    this.busy.set(true);
    this.problem.set(null);
    try {
      await work();
    } catch (error) {
      this.problem.set(error instanceof ApiError ? error.problem : { kind: 'failed' });
    } finally {
      this.busy.set(false);
    }
  }
}
