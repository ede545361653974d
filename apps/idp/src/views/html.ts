// Server-rendered pages. Every value is escaped; pages load only our own stylesheet and script.
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

export function page(title: string, body: string, opts: { script?: boolean } = {}): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/assets/idp.css">
${opts.script ? '<script src="/assets/auto-submit.js" defer></script>' : ''}
</head>
<body>
<main class="card">
${body}
</main>
</body>
</html>`;
}
