/** A note as the API returns it. */
export interface Note {
  readonly id: string;
  readonly text: string;
  readonly createdAt?: string;
}

export function isNote(value: unknown): value is Note {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (typeof record['id'] === 'string' || typeof record['id'] === 'number') && typeof record['text'] === 'string';
}

/** Accepts `[...]` or `{ notes: [...] }`; ids are normalised to strings. */
export function toNotes(value: unknown): Note[] {
  const list = Array.isArray(value) ? value : (value as { notes?: unknown } | null)?.notes;
  if (!Array.isArray(list)) return [];
  return list.filter(isNote).map((note) => ({ ...note, id: String(note.id) }));
}
