import type { RouteObject } from 'react-router';

import { RequireSession } from './auth/RequireSession';
import { Layout } from './layout/Layout';
import { AgentDetail } from './pages/AgentDetail';
import { Agents } from './pages/Agents';
import { McpServers } from './pages/McpServers';
import { Overview } from './pages/Overview';
import * as P from './pages/placeholders';
import { Providers } from './pages/Providers';
import { RoutesPage } from './pages/RoutesPage';
import { RunDetail } from './pages/RunDetail';
import { Runs } from './pages/Runs';
import { ToolDetail } from './pages/ToolDetail';
import { Tools } from './pages/Tools';
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
      {
        path: 'topology',
        lazy: () => import('./pages/Topology').then((m) => ({ Component: m.Topology })),
        hydrateFallbackElement: <p>Loading the topology…</p>,
      },
      { path: 'agents', element: <Agents /> },
      { path: 'agents/:name', element: <AgentDetail /> },
      { path: 'tools', element: <Tools /> },
      { path: 'tools/:name', element: <ToolDetail /> },
      { path: 'providers', element: <Providers /> },
      { path: 'routes', element: <RoutesPage /> },
      { path: 'mcp-servers', element: <McpServers /> },
      { path: '*', element: <P.NotFound /> },
    ],
  },
];
