import { useId, type InputHTMLAttributes, type ReactNode } from 'react';

/** The props a form control gets from <Field>: wire them onto the <input>/<select>/<textarea>. */
export interface ControlProps {
  id: string;
  name: string;
  'aria-invalid': boolean | undefined;
  'aria-describedby': string | undefined;
}

/**
 * A labelled form control with its hint and its error (an API 422 message for this field:
 * `error={err?.field('tools[1]')}`), tied to the control with aria-describedby.
 *
 *   <Field label="Name" name="name" error={apiError?.field('name')}>
 *     {(control) => <input {...control} value={name} onChange={…} required />}
 *   </Field>
 */
export function Field({
  label,
  name,
  hint,
  error,
  children,
}: {
  label: string;
  name: string;
  hint?: ReactNode;
  error?: string | undefined;
  children: (control: ControlProps) => ReactNode;
}) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  return (
    <div className={error ? 'field field-invalid' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {hint ? (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      ) : null}
      {children({ id, name, 'aria-invalid': error ? true : undefined, 'aria-describedby': describedBy })}
      {error ? (
        <p id={errorId} className="field-error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

/**
 * A <Field> holding one <input>: `value` and `onChange(text)`, other input attributes as given
 * (`type="number" step="any"`, `required`, …).
 */
export function TextField({
  label,
  name,
  hint,
  error,
  value,
  onChange,
  ...input
}: {
  label: string;
  name: string;
  hint?: ReactNode;
  error?: string | undefined;
  value: string;
  onChange: (text: string) => void;
} & Omit<InputHTMLAttributes<HTMLInputElement>, 'name' | 'value' | 'onChange' | 'id'>) {
  return (
    <Field label={label} name={name} hint={hint} error={error}>
      {(control) => <input {...control} {...input} value={value} onChange={(e) => onChange(e.target.value)} />}
    </Field>
  );
}
