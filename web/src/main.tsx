import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createBrowserRouter, RouterProvider } from 'react-router';

import { setUnauthorizedHandler } from './api/client';
import { signInPath, withoutBasename } from './auth/next';
import { BASENAME, routes } from './routes';
import './styles.css';

const router = createBrowserRouter(routes, { basename: BASENAME });

// Any call answering 401 (the session expired or was revoked): sign in again, then come back.
setUnauthorizedHandler(() => {
  const { search } = router.state.location;
  const pathname = withoutBasename(router.state.location.pathname, BASENAME);
  if (!pathname.startsWith('/sign-in')) void router.navigate(signInPath(pathname, search), { replace: true });
});

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <RouterProvider router={router} />
  </StrictMode>,
);
