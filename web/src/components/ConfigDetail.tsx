import type { ReactNode } from 'react';
import { Link } from 'react-router';

import { ConfirmButton } from './ConfirmButton';
import type { LoadState } from './ConfigList';
import { EmptyState } from './EmptyState';
import { ErrorMessage } from './ErrorMessage';
import { Page } from './Page';

/**
 * The page of one configuration object (`noun`, listed at `/${list}`): "No such …" when the API
 * answers 404, else Edit and Delete (`canEdit`), the way back to the list, a loading line and
 * the page's own parts (`children`).
 */
export function ConfigDetailPage({
  title,
  noun,
  list,
  loaded,
  notFound,
  loading,
  canEdit,
  onEdit,
  deleteQuestion,
  onDelete,
  children,
}: {
  title: string;
  noun: string;
  list: string;
  loaded: LoadState;
  notFound: ReactNode;
  loading: boolean;
  canEdit: boolean;
  onEdit: () => void;
  deleteQuestion: string;
  onDelete: () => Promise<unknown>;
  children: ReactNode;
}) {
  if (loaded.state === 'error') {
    return (
      <Page title={title}>
        {loaded.error?.status === 404 ? (
          <EmptyState title={`No such ${noun}`} action={<Link to={`/${list}`}>{`Back to ${list}`}</Link>}>
            {notFound}
          </EmptyState>
        ) : (
          <ErrorMessage error={loaded.error} />
        )}
      </Page>
    );
  }
  return (
    <Page
      title={title}
      actions={
        canEdit ? (
          <>
            <button type="button" onClick={onEdit}>
              Edit
            </button>
            <ConfirmButton label="Delete" question={deleteQuestion} confirmLabel="Yes, delete" onConfirm={onDelete} />
          </>
        ) : null
      }
    >
      <p>
        <Link to={`/${list}`}>{`← All ${list}`}</Link>
      </p>
      {loading ? <p>{`Loading the ${noun}…`}</p> : null}
      {children}
    </Page>
  );
}
