/**
 * The `next=` of /ui/sign-in: a path inside the app (router path, without the /ui basename).
 * Anything else (another origin, `//host`, a scheme) falls back to the overview.
 */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  if (next.startsWith('/sign-in')) return '/';
  return next;
}

/** /sign-in?next=<path> for the current router location. */
export function signInPath(pathname: string, search = ''): string {
  const next = pathname + search;
  return next === '/' || next.startsWith('/sign-in') ? '/sign-in' : `/sign-in?next=${encodeURIComponent(next)}`;
}
