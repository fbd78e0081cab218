import type { ReactNode } from 'react';

import type { ApiError } from '../api/client';
import { ConfirmButton } from './ConfirmButton';
import { ErrorMessage } from './ErrorMessage';
import { Page } from './Page';

/** What a configuration page needs of its `useApi` result. */
export interface LoadState {
  state: 'loading' | 'ok' | 'error';
  error: ApiError | null;
}

/** A section card and its heading ("New tool", "Edit weather", "Definition"). */
export function SectionCard({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <section className="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

/**
 * A configuration list page: the heading with its "New …" button (`canCreate`, while no form is
 * open), loading and error lines, the new form in a card (`creating`), the empty state (loaded,
 * nothing yet, no form open) and the list (`children`).
 */
export function ConfigListPage({
  title,
  newLabel,
  newId,
  canCreate,
  onNew,
  loaded,
  loadingText,
  intro,
  creating,
  formOpen,
  newForm,
  isEmpty,
  empty,
  children,
}: {
  title: string;
  newLabel: string;
  newId: string;
  canCreate: boolean;
  onNew: () => void;
  loaded: LoadState;
  loadingText: string;
  intro?: ReactNode;
  creating: boolean;
  formOpen: boolean;
  newForm: ReactNode;
  isEmpty: boolean;
  empty: ReactNode;
  children: ReactNode;
}) {
  return (
    <Page
      title={title}
      actions={
        canCreate && !formOpen ? (
          <button type="button" onClick={onNew}>
            {newLabel}
          </button>
        ) : null
      }
    >
      {intro}
      {loaded.state === 'loading' ? <p>{loadingText}</p> : null}
      {loaded.state === 'error' ? <ErrorMessage error={loaded.error} /> : null}
      {creating ? (
        <SectionCard id={newId} title={newLabel}>
          {newForm}
        </SectionCard>
      ) : null}
      {loaded.state === 'ok' && isEmpty && !formOpen ? empty : null}
      {children}
    </Page>
  );
}

/** Items as cards; the one whose key is `editing` shows its edit form instead. */
export function CardList<T>({
  items,
  keyOf,
  editing,
  editTitle,
  editForm,
  children,
}: {
  items: readonly T[];
  keyOf: (item: T) => string;
  editing: string | null;
  editTitle: (item: T) => string;
  editForm: (item: T) => ReactNode;
  children: (item: T) => ReactNode;
}) {
  return items.length > 0 ? (
    <ul className="cards">
      {items.map((item) => {
        const key = keyOf(item);
        return (
          <li key={key} className="card">
            {editing === key ? (
              <>
                <h2>{editTitle(item)}</h2>
                {editForm(item)}
              </>
            ) : (
              children(item)
            )}
          </li>
        );
      })}
    </ul>
  ) : null;
}

/** A card's heading and its buttons. */
export function CardHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="card-header">
      <h2>{title}</h2>
      {children}
    </div>
  );
}

/** "Edit" and "Delete NAME" (which asks `question` first) of a card. */
export function EditDeleteButtons({
  name,
  question,
  onEdit,
  onDelete,
}: {
  name: string;
  question: string;
  onEdit: () => void;
  onDelete: () => Promise<unknown>;
}) {
  return (
    <>
      <button type="button" className="secondary" aria-label={`Edit ${name}`} onClick={onEdit}>
        Edit
      </button>
      <ConfirmButton label={`Delete ${name}`} question={question} confirmLabel="Yes, delete" onConfirm={onDelete} />
    </>
  );
}
