import { useState } from 'react';
import { Link, useNavigate } from 'react-router';

import { api, call } from '../api/client';
import type { AgentCreate } from '../api/types';
import { useApi } from '../api/useApi';
import { allows, useSession } from '../auth/session-context';
import { EmptyState } from '../components/EmptyState';
import { ErrorMessage } from '../components/ErrorMessage';
import { Page } from '../components/Page';
import { useSubmit } from '../lib/form';
import { AgentForm } from './config/AgentForm';
import { TableWrap } from '../components/TableWrap';

/** /ui/agents: every agent (its current version), and a form to create one. */
export function Agents() {
  const { who } = useSession();
  const admin = allows(who, 'admin');
  const navigate = useNavigate();
  const [creating, setCreating] = useState(false);
  const save = useSubmit();
  const loaded = useApi(
    (signal) =>
      Promise.all([
        call(api.GET('/v1/agents', { signal })),
        call(api.GET('/v1/providers', { signal })),
        call(api.GET('/v1/tools', { signal })),
      ]),
    [],
  );

  const create = async (body: AgentCreate) => {
    const agent = await save.run(() => call(api.POST('/v1/agents', { body })));
    if (agent) void navigate(`/agents/${encodeURIComponent(agent.name)}`);
  };

  const [agents, providers, tools] = loaded.data ?? [[], [], []];
  return (
    <Page
      title="Agents"
      actions={
        admin && !creating && loaded.state === 'ok' ? (
          <button type="button" onClick={() => setCreating(true)}>
            New agent
          </button>
        ) : null
      }
    >
      {loaded.state === 'loading' ? <p>Loading agents…</p> : null}
      {loaded.state === 'error' ? <ErrorMessage error={loaded.error} /> : null}
      {creating ? (
        <section className="card" aria-labelledby="new-agent">
          <h2 id="new-agent">New agent</h2>
          {providers.length === 0 ? (
            <p className="field-hint">
              An agent needs a provider: <Link to="/providers">create one first</Link>.
            </p>
          ) : null}
          <AgentForm
            providers={providers}
            tools={tools}
            saveError={save.error}
            busy={save.busy}
            onSave={(body) => void create(body)}
            onCancel={() => {
              setCreating(false);
              save.setError(null);
            }}
          />
        </section>
      ) : null}
      {loaded.state === 'ok' && agents.length === 0 && !creating ? (
        <EmptyState
          title="No agents yet"
          action={
            providers.length === 0 ? (
              <Link to="/providers">Set up a provider first</Link>
            ) : admin ? (
              <button type="button" onClick={() => setCreating(true)}>
                Create an agent
              </button>
            ) : null
          }
        >
          <p>An agent is a model provider, a system prompt, tools and limits. Add a provider, then create an agent.</p>
        </EmptyState>
      ) : null}
      {agents.length > 0 ? (
        <TableWrap label="Agents list">
          <table>
            <caption className="sr-only">Agents</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Description</th>
                <th scope="col">Model</th>
                <th scope="col">Tools</th>
                <th scope="col">Version</th>
              </tr>
            </thead>
            <tbody>
              {agents.map((agent) => (
                <tr key={agent.name}>
                  <td>
                    <Link to={`/agents/${encodeURIComponent(agent.name)}`}>{agent.name}</Link>
                  </td>
                  <td>{agent.description}</td>
                  <td>
                    {agent.provider}
                    {agent.model ? ` / ${agent.model}` : ' (default model)'}
                  </td>
                  <td>{agent.tools.length === 0 ? 'none' : agent.tools.join(', ')}</td>
                  <td>v{agent.current_version}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
    </Page>
  );
}
