import { useCallback, useEffect, useState, type DependencyList } from 'react';

import { ApiError } from './client';

export type Loaded<T> =
  | { state: 'loading'; data: undefined; error: null }
  | { state: 'ok'; data: T; error: null }
  | { state: 'error'; data: undefined; error: ApiError };

/**
 * Load something from the API when the page opens (and again when `deps` change, or on
 * `reload()`); an answer for an older request is dropped. A page shows `loading`, then the data
 * (or its empty state), or the error in words:
 *
 *   const agents = useApi((signal) => call(api.GET('/v1/agents', { signal })), []);
 *   if (agents.state === 'error') return <ErrorMessage error={agents.error} />;
 */
export function useApi<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: DependencyList,
): Loaded<T> & { reload: () => void } {
  const [result, setResult] = useState<Loaded<T>>({ state: 'loading', data: undefined, error: null });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const abort = new AbortController();
    load(abort.signal).then(
      (data) => {
        if (!abort.signal.aborted) setResult({ state: 'ok', data, error: null });
      },
      (err: unknown) => {
        if (abort.signal.aborted) return;
        const error =
          err instanceof ApiError
            ? err
            : new ApiError(0, 'client_error', err instanceof Error ? err.message : String(err));
        setResult({ state: 'error', data: undefined, error });
      },
    );
    return () => abort.abort();
    // `load` is a new function each render: the caller's deps say when it means something new.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, attempt]);

  const reload = useCallback(() => {
    setResult({ state: 'loading', data: undefined, error: null });
    setAttempt((n) => n + 1);
  }, []);

  return { ...result, reload };
}
