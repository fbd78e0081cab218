import type { ApiError } from '../api/client';
import { otherFieldErrors } from '../lib/form';

/**
 * A form's own error: the API's message in words, and any field errors that name no control of
 * the form (so none is lost).
 */
export function FormError({ error, shown }: { error: ApiError | null; shown: readonly string[] }) {
  if (!error) return null;
  const others = otherFieldErrors(error, shown);
  return (
    <div role="alert" className="error-message form-error">
      <p>{error.message}</p>
      {others.length > 0 ? (
        <ul>
          {others.map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
