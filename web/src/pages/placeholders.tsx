/**
 * The page for an address the app does not have.
 */
import { Link } from 'react-router';

import { EmptyState } from '../components/EmptyState';
import { Page } from '../components/Page';

export function NotFound() {
  return (
    <Page title="Page not found">
      <EmptyState title="There is no page here" action={<Link to="/">Go to the overview</Link>}>
        <p>The address may be mistyped, or the page moved.</p>
      </EmptyState>
    </Page>
  );
}
