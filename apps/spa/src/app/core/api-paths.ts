/** The API's routes the pages use (relative to SPA_API_URL). */
export const API_PATHS = {
  userOne: '/api/UserOne',
  notes: '/api/notes',
  note: (id: string) => `/api/notes/${encodeURIComponent(id)}`,
} as const;

/** The address of API path `path` (one of API_PATHS) at the API `apiUrl`: what token mode requests. */
export function apiRequestUrl(apiUrl: string, path: string): string {
  return apiUrl.replace(/\/$/, '') + path;
}
