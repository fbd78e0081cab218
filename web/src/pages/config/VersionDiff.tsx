import type { Agent } from '../../api/types';
import { fieldDiff, lineDiff } from '../../lib/diff';
import { TableWrap } from '../../components/TableWrap';

/** The fields of a version that make its content (what the versioning rules compare). */
export const VERSION_FIELDS = [
  'description',
  'provider',
  'model',
  'system_prompt',
  'prompt_variables',
  'tools',
  'fallbacks',
  'max_steps',
  'temperature',
  'max_total_tokens',
  'max_cost_usd',
  'max_duration_s',
  'model_timeout_s',
  'model_max_attempts',
  'approval_timeout_s',
  'on_tool_error',
  'output_schema',
  'max_output_repairs',
  'script',
] as const satisfies readonly (keyof Agent)[];

function show(value: unknown): string {
  if (value === null || value === undefined) return '(not set)';
  if (typeof value === 'string') return value === '' ? '(empty)' : value;
  return JSON.stringify(value);
}

const MARK = { same: ' ', added: '+', removed: '−' } as const;
const WORD = { same: 'unchanged', added: 'added', removed: 'removed' } as const;

/** What changed from version `before` to `after`: field by field, the system prompt line by line. */
export function VersionDiff({ before, after }: { before: Agent; after: Agent }) {
  const changes = fieldDiff(before, after, VERSION_FIELDS);
  const prompt = changes.some((c) => c.field === 'system_prompt')
    ? lineDiff(before.system_prompt, after.system_prompt)
    : null;
  const others = changes.filter((c) => c.field !== 'system_prompt');
  if (changes.length === 0) {
    return (
      <p>
        Versions {before.version} and {after.version} have the same content.
      </p>
    );
  }
  return (
    <div className="diff">
      {others.length > 0 ? (
        <TableWrap label={`Changes from version ${before.version} to version ${after.version}`}>
          <table>
            <caption>
              Fields changed from version {before.version} to version {after.version}
            </caption>
            <thead>
              <tr>
                <th scope="col">Field</th>
                <th scope="col">Version {before.version}</th>
                <th scope="col">Version {after.version}</th>
              </tr>
            </thead>
            <tbody>
              {others.map((c) => (
                <tr key={c.field}>
                  <th scope="row">
                    <code>{c.field}</code>
                  </th>
                  <td className="diff-before">
                    <code>{show(c.before)}</code>
                  </td>
                  <td className="diff-after">
                    <code>{show(c.after)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
      {prompt ? (
        <figure className="line-diff">
          <figcaption>System prompt, line by line</figcaption>
          <ol className="diff-lines" aria-label="System prompt changes">
            {prompt.map((line, i) => (
              <li key={i} className={`diff-${line.kind}`}>
                <span className="sr-only">{WORD[line.kind]}: </span>
                <span aria-hidden="true" className="diff-mark">
                  {MARK[line.kind]}
                </span>
                <code>{line.text === '' ? ' ' : line.text}</code>
              </li>
            ))}
          </ol>
        </figure>
      ) : null}
    </div>
  );
}
