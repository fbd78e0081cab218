import { Link, useNavigate } from 'react-router';

import { api, call } from '../api/client';
import type { AgentCreate } from '../api/types';
import { useApi } from '../api/useApi';
import { allows, useSession } from '../auth/session-context';
import { ConfigListPage } from '../components/ConfigList';
import { EmptyState } from '../components/EmptyState';
import { useEditing } from '../lib/form';
import { AgentForm } from './config/AgentForm';
import { ListTable } from '../components/TableWrap';

/** /ui/agents: every agent (its current version), and a form to create one. */
export function Agents() {
  const { who } = useSession();
  const admin = allows(who, 'admin');
  const navigate = useNavigate();
  const { editing: creating, setEditing: setCreating, save, formProps } = useEditing(false);
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
    <ConfigListPage
      title="Agents"
      newLabel="New agent"
      newId="new-agent"
      canCreate={admin && loaded.state === 'ok'}
      onNew={() => setCreating(true)}
      loaded={loaded}
      loadingText="Loading agents…"
      creating={creating}
      formOpen={creating}
      newForm={
        <>
          {providers.length === 0 ? (
            <p className="field-hint">
              An agent needs a provider: <Link to="/providers">create one first</Link>.
            </p>
          ) : null}
          <AgentForm providers={providers} tools={tools} {...formProps} onSave={(body) => void create(body)} />
        </>
      }
      isEmpty={agents.length === 0}
      empty={
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
      }
    >
      {agents.length > 0 ? (
        <ListTable caption="Agents" columns={['Name', 'Description', 'Model', 'Tools', 'Version']}>
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
        </ListTable>
      ) : null}
    </ConfigListPage>
  );
}
