import type { ReactNode } from 'react';

import type { ApiError } from '../api/client';
import { FormError } from './FormError';

/** What a page gives its configuration form: the save's error and state, the body's way out, Cancel. */
export interface FormProps<Body> {
  saveError: ApiError | null;
  busy: boolean;
  onSave: (body: Body) => void;
  onCancel?: (() => void) | undefined;
}

/**
 * A configuration form: its controls, then its own error (and the field errors no control of
 * `shown` takes), then submit and, with `onCancel`, Cancel. `onSubmit` runs instead of the
 * browser's submit.
 */
export function ConfigForm({
  label,
  onSubmit,
  saveError,
  shown,
  busy,
  submitLabel,
  busyLabel = 'Saving…',
  onCancel,
  children,
}: {
  label: string;
  onSubmit: () => void;
  saveError: ApiError | null;
  shown: readonly string[];
  busy: boolean;
  submitLabel: string;
  busyLabel?: string;
  onCancel?: (() => void) | undefined;
  children: ReactNode;
}) {
  return (
    <form
      className="config-form"
      onSubmit={(event) => {
        event.preventDefault();
        onSubmit();
      }}
      noValidate
      aria-label={label}
    >
      {children}
      <FormError error={saveError} shown={shown} />
      <div className="form-actions">
        <button type="submit" disabled={busy}>
          {busy ? busyLabel : submitLabel}
        </button>
        {onCancel ? (
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}
