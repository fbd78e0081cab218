import type { ReactNode } from 'react';

/** A definition's properties, label and value, as a `<dl class="props">`. */
export function Props({ rows }: { rows: readonly (readonly [string, ReactNode])[] }) {
  return (
    <dl className="props">
      {rows.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
