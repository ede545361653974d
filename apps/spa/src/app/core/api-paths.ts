/** The API's routes the pages use (relative to SPA_API_URL). */
export const API_PATHS = {
  userOne: '/api/UserOne',
  notes: '/api/notes',
  note: (id: string) => `/api/notes/${encodeURIComponent(id)}`,
} as const;
