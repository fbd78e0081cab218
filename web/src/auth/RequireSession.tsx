import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useLocation, useNavigate } from 'react-router';

import { ApiError, errorMessage } from '../api/client';
import { signOut as endSession, whoami, type WhoAmI } from '../api/session';
import { signInPath } from './next';
import { SessionContext, type SessionState } from './session-context';

type Check = { state: 'checking' } | { state: 'in'; who: WhoAmI } | { state: 'failed'; message: string };

/** The auth guard: asks GET /v1/whoami once; a 401 goes to /ui/sign-in?next=<this page>. */
export function RequireSession({ children }: { children: ReactNode }) {
  const [check, setCheck] = useState<Check>({ state: 'checking' });
  const [attempt, setAttempt] = useState(0);
  const navigate = useNavigate();
  const location = useLocation();

  useEffect(() => {
    let live = true;
    whoami().then(
      (who) => live && setCheck({ state: 'in', who }),
      (err: unknown) => {
        if (!live) return;
        if (err instanceof ApiError && err.status === 401) {
          navigate(signInPath(location.pathname, location.search), { replace: true });
        } else {
          setCheck({ state: 'failed', message: errorMessage(err) });
        }
      },
    );
    return () => {
      live = false;
    };
    // Once per mount (and per retry): page changes inside the layout keep the session.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [attempt]);

  const signOut = useCallback(async () => {
    await endSession();
    navigate('/sign-in', { replace: true });
  }, [navigate]);

  const value = useMemo<SessionState | null>(
    () => (check.state === 'in' ? { who: check.who, signOut } : null),
    [check, signOut],
  );

  if (check.state === 'checking') {
    return (
      <main id="main" className="center-page" aria-busy="true">
        <p role="status">Checking your session…</p>
      </main>
    );
  }
  if (check.state === 'failed' || value === null) {
    return (
      <main id="main" className="center-page">
        <div role="alert" className="error-box">
          <h1>The control plane cannot start</h1>
          <p>{check.state === 'failed' ? check.message : 'Unknown state.'}</p>
          <button
            type="button"
            onClick={() => {
              setCheck({ state: 'checking' });
              setAttempt((n) => n + 1);
            }}
          >
            Try again
          </button>
        </div>
      </main>
    );
  }
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}
