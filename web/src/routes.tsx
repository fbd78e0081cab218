import type { RouteObject } from 'react-router';

import { RequireSession } from './auth/RequireSession';
import { Layout } from './layout/Layout';
import { Overview } from './pages/Overview';
import * as P from './pages/placeholders';
import { RunDetail } from './pages/RunDetail';
import { Runs } from './pages/Runs';
import { SignIn } from './pages/SignIn';

/** Router basename: the API serves the app under /ui (vite.config.ts `base`). */
export const BASENAME = '/ui';

/** Every page, by path under /ui. All but sign-in need a session (<RequireSession>). */
export const routes: RouteObject[] = [
  { path: '/sign-in', element: <SignIn /> },
  {
    element: (
      <RequireSession>
        <Layout />
      </RequireSession>
    ),
    children: [
      { index: true, element: <Overview /> },
      { path: 'runs', element: <Runs /> },
      { path: 'runs/:runId', element: <RunDetail /> },
      { path: 'topology', element: <P.Topology /> },
      { path: 'agents', element: <P.Agents /> },
      { path: 'agents/:name', element: <P.AgentDetail /> },
      { path: 'tools', element: <P.Tools /> },
      { path: 'tools/:name', element: <P.ToolDetail /> },
      { path: 'providers', element: <P.Providers /> },
      { path: 'routes', element: <P.RoutesPage /> },
      { path: 'mcp-servers', element: <P.McpServers /> },
      { path: '*', element: <P.NotFound /> },
    ],
  },
];
