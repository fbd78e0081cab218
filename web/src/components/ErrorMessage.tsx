import { errorMessage } from '../api/client';

/** An error in words, announced to screen readers. Renders nothing without an error. */
export function ErrorMessage({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null;
  return (
    <p role="alert" className="error-message">
      {errorMessage(error)}
    </p>
  );
}
