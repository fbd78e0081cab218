import { useEffect, useRef, useState } from 'react';
import { NavLink, Outlet, useLocation } from 'react-router';

import { errorMessage } from '../api/client';
import { useSession } from '../auth/session-context';

/** The sections of the nav, in order. A page of its own per entry (src/pages/). */
export const NAV = [
  { to: '/', label: 'Overview', end: true },
  { to: '/runs', label: 'Runs' },
  { to: '/topology', label: 'Topology' },
  { to: '/agents', label: 'Agents' },
  { to: '/tools', label: 'Tools' },
  { to: '/providers', label: 'Providers' },
  { to: '/routes', label: 'Routes' },
  { to: '/mcp-servers', label: 'MCP servers' },
] as const;

export function Layout() {
  const { who, signOut } = useSession();
  const [menuFor, setMenuFor] = useState<string | null>(null);
  const [signOutError, setSignOutError] = useState<string | null>(null);
  const location = useLocation();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // The phone menu is open for the page it was opened on: a new page closes it.
  const menuOpen = menuFor === location.key;

  // A new page: move focus to the content, as a page load would.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
  }, [location.key]);

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">orch</span>
        <button
          type="button"
          className="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          onClick={() => setMenuFor(menuOpen ? null : location.key)}
        >
          Menu
        </button>
        <div className="who">
          <span className="who-token" title="Signed in with this token">
            {who.token_id} <span className="scope">({who.scope})</span>
          </span>
          <button
            type="button"
            onClick={() => {
              setSignOutError(null);
              signOut().catch((err: unknown) => setSignOutError(errorMessage(err)));
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <nav id="main-nav" aria-label="Main" className={menuOpen ? 'nav nav-open' : 'nav'}>
        <ul>
          {NAV.map((item) => (
            <li key={item.to}>
              <NavLink to={item.to} end={'end' in item ? item.end : false}>
                {item.label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" ref={main} tabIndex={-1} className="content">
        {signOutError ? (
          <p role="alert" className="error-message">
            Sign-out failed: {signOutError}
          </p>
        ) : null}
        <Outlet />
      </main>
    </div>
  );
}
