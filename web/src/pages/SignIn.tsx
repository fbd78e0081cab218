import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router';

import { errorMessage } from '../api/client';
import { signIn } from '../api/session';
import { safeNext } from '../auth/next';
import { Field } from '../components/Field';

/**
 * The token from a sign-in link (`/ui/sign-in#token=…`, which `orch up` prints), taken out of
 * the address at once with history.replaceState: it never stays in the URL or the history.
 */
export function takeFragmentToken(): string | null {
  const { hash, pathname, search } = window.location;
  if (!hash) return null;
  // Not URLSearchParams: it reads '+' as a space, and ORCH_ADMIN_TOKEN may hold one.
  const part = hash
    .slice(1)
    .split('&')
    .find((item) => item.startsWith('token='));
  if (part === undefined) return null;
  window.history.replaceState(window.history.state, '', pathname + search);
  let token = part.slice('token='.length);
  try {
    token = decodeURIComponent(token);
  } catch {
    /* not percent-encoded: as it is */
  }
  return token.trim() || null;
}

export function SignIn() {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const fromLink = useRef(false);

  useEffect(() => {
    document.title = 'Sign in · orch';
  }, []);

  const submit = async (value: string) => {
    setBusy(true);
    setError(null);
    try {
      await signIn(value);
      navigate(next, { replace: true });
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };

  // A sign-in link: sign in with its token, once (StrictMode runs effects twice in development).
  useEffect(() => {
    if (fromLink.current) return;
    const linked = takeFragmentToken();
    if (linked === null) return;
    fromLink.current = true;
    // After this render: the effect itself only starts the sign-in.
    queueMicrotask(() => void submit(linked));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const value = token.trim();
    if (!value) {
      setError('Enter an API token: `orch token local` prints the local admin’s, `orch token create` makes one.');
      return;
    }
    void submit(value);
  };

  return (
    <main id="main" className="center-page">
      <form className="sign-in card" onSubmit={onSubmit} aria-labelledby="sign-in-title" noValidate>
        <h1 id="sign-in-title">Sign in to orch</h1>
        <p>Paste an API token. It is traded for a session cookie and not kept by this page.</p>
        <Field
          label="API token"
          name="token"
          hint={
            <>
              <code>orch token local</code> prints the local admin token.
            </>
          }
          error={error ?? undefined}
        >
          {(control) => (
            <input
              {...control}
              type="password"
              autoComplete="off"
              spellCheck={false}
              value={token}
              onChange={(event) => setToken(event.target.value)}
              disabled={busy}
            />
          )}
        </Field>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="sr-only" role="status">
          {busy ? 'Signing in…' : ''}
        </p>
      </form>
    </main>
  );
}
