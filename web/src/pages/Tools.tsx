import { useState } from 'react';
import { Link, useNavigate } from 'react-router';

import { api, call } from '../api/client';
import type { ToolCreate } from '../api/types';
import { useApi } from '../api/useApi';
import { allows, useSession } from '../auth/session-context';
import { EmptyState } from '../components/EmptyState';
import { ErrorMessage } from '../components/ErrorMessage';
import { Page } from '../components/Page';
import { useSubmit } from '../lib/form';
import { ToolForm } from './config/ToolForm';
import { TableWrap } from '../components/TableWrap';

/** /ui/tools: every tool, and a form to create one. */
export function Tools() {
  const { who } = useSession();
  const admin = allows(who, 'admin');
  const navigate = useNavigate();
  const [creating, setCreating] = useState(false);
  const save = useSubmit();
  const tools = useApi((signal) => call(api.GET('/v1/tools', { signal })), []);

  const create = async (body: ToolCreate) => {
    const tool = await save.run(() => call(api.POST('/v1/tools', { body })));
    if (tool) void navigate(`/tools/${encodeURIComponent(tool.name)}`);
  };

  return (
    <Page
      title="Tools"
      actions={
        admin && !creating ? (
          <button type="button" onClick={() => setCreating(true)}>
            New tool
          </button>
        ) : null
      }
    >
      {tools.state === 'loading' ? <p>Loading tools…</p> : null}
      {tools.state === 'error' ? <ErrorMessage error={tools.error} /> : null}
      {creating ? (
        <section className="card" aria-labelledby="new-tool">
          <h2 id="new-tool">New tool</h2>
          <ToolForm
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
      {tools.state === 'ok' && tools.data.length === 0 && !creating ? (
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
      ) : null}
      {tools.state === 'ok' && tools.data.length > 0 ? (
        <TableWrap label="Tools list">
          <table>
            <caption className="sr-only">Tools</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col">Description</th>
                <th scope="col">Approval</th>
              </tr>
            </thead>
            <tbody>
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
            </tbody>
          </table>
        </TableWrap>
      ) : null}
    </Page>
  );
}
