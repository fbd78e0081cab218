import { createContext, useContext } from 'react';

import type { WhoAmI } from '../api/session';

export interface SessionState {
  /** Who is signed in (from GET /v1/whoami). */
  who: WhoAmI;
  signOut: () => Promise<void>;
}

export const SessionContext = createContext<SessionState | null>(null);

/** The signed-in session; only inside the layout (every page but sign-in). */
export function useSession(): SessionState {
  const session = useContext(SessionContext);
  if (session === null) throw new Error('useSession() outside <RequireSession>');
  return session;
}

/** Whether the session's scope includes `needed` (read < run < admin). */
export function allows(who: WhoAmI, needed: WhoAmI['scope']): boolean {
  const order = ['read', 'run', 'admin'] as const;
  return order.indexOf(who.scope) >= order.indexOf(needed);
}
