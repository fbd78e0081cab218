import { Link, useNavigate } from 'react-router';

import { api, call } from '../api/client';
import type { ToolCreate } from '../api/types';
import { useApi } from '../api/useApi';
import { allows, useSession } from '../auth/session-context';
import { ConfigListPage } from '../components/ConfigList';
import { EmptyState } from '../components/EmptyState';
import { useEditing } from '../lib/form';
import { ToolForm } from './config/ToolForm';
import { ListTable } from '../components/TableWrap';

/** /ui/tools: every tool, and a form to create one. */
export function Tools() {
  const { who } = useSession();
  const admin = allows(who, 'admin');
  const navigate = useNavigate();
  const { editing: creating, setEditing: setCreating, save, formProps } = useEditing(false);
  const tools = useApi((signal) => call(api.GET('/v1/tools', { signal })), []);

  const create = async (body: ToolCreate) => {
    const tool = await save.run(() => call(api.POST('/v1/tools', { body })));
    if (tool) void navigate(`/tools/${encodeURIComponent(tool.name)}`);
  };

  return (
    <ConfigListPage
      title="Tools"
      newLabel="New tool"
      newId="new-tool"
      canCreate={admin}
      onNew={() => setCreating(true)}
      loaded={tools}
      loadingText="Loading tools…"
      creating={creating}
      formOpen={creating}
      newForm={<ToolForm {...formProps} onSave={(body) => void create(body)} />}
      isEmpty={tools.state === 'ok' && tools.data.length === 0}
      empty={
        <EmptyState
          title="No tools yet"
          action={
            admin ? (
              <button type="button" onClick={() => setCreating(true)}>
                Create a tool
              </button>
            ) : null
          }
        >
          <p>
            Tools are HTTP APIs, workspace files, search, MCP tools and sub-agents that agents may call. Create one, or
            register an <Link to="/mcp-servers">MCP server</Link> to get its tools.
          </p>
        </EmptyState>
      }
    >
      {tools.state === 'ok' && tools.data.length > 0 ? (
        <ListTable caption="Tools" columns={['Name', 'Kind', 'Description', 'Approval']}>
          {tools.data.map((tool) => (
            <tr key={tool.name}>
              <td>
                <Link to={`/tools/${encodeURIComponent(tool.name)}`}>{tool.name}</Link>
              </td>
              <td>{tool.kind}</td>
              <td>{tool.description}</td>
              <td>{tool.requires_approval ? 'required' : 'no'}</td>
            </tr>
          ))}
        </ListTable>
      ) : null}
    </ConfigListPage>
  );
}
