import type { ReactNode } from 'react';

import { parseJsonField, type JsonShape } from '../lib/json';
import { Field } from './Field';

/**
 * A labelled JSON textarea. Its own parse error (checked on blur, and by the form before sending:
 * `parseJsonField`) shows before the API's error for the same field.
 */
export function JsonField({
  label,
  name,
  value,
  onChange,
  shape = 'any',
  hint,
  error,
  localError,
  onLocalError,
  rows = 6,
}: {
  label: string;
  name: string;
  value: string;
  onChange: (text: string) => void;
  shape?: JsonShape;
  hint?: ReactNode;
  error?: string | undefined;
  localError?: string | undefined;
  onLocalError: (name: string, message: string | undefined) => void;
  rows?: number;
}) {
  return (
    <Field label={label} name={name} hint={hint} error={localError ?? error}>
      {(control) => (
        <textarea
          {...control}
          className="mono"
          rows={rows}
          spellCheck={false}
          value={value}
          onChange={(e) => {
            onChange(e.target.value);
            if (localError) onLocalError(name, undefined);
          }}
          onBlur={() => {
            const parsed = parseJsonField(value, shape);
            onLocalError(name, parsed.ok ? undefined : parsed.message);
          }}
        />
      )}
    </Field>
  );
}
