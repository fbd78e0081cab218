/**
 * The `next=` of /ui/sign-in: a path inside the app (router path, without the /ui basename).
 * Anything else (another origin, `//host`, a scheme) falls back to the overview.
 */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  // A full path (/ui/runs) would open /ui/ui/runs: the router adds the basename itself.
  const path = withoutBasename(next);
  if (path.startsWith('/sign-in')) return '/';
  return path;
}

/** /sign-in?next=<path> for the current router location. */
export function signInPath(pathname: string, search = ''): string {
  const next = pathname + search;
  return next === '/' || next.startsWith('/sign-in') ? '/sign-in' : `/sign-in?next=${encodeURIComponent(next)}`;
}

/**
 * A path without the router's basename: `/ui/runs` → `/runs`, `/ui` → `/`. The data router's
 * `router.state.location.pathname` keeps the basename, where `useLocation()` drops it.
 */
export function withoutBasename(pathname: string, basename = '/ui'): string {
  if (pathname === basename) return '/';
  return pathname.startsWith(`${basename}/`) ? pathname.slice(basename.length) : pathname;
}
