/** A run's status as text, with a mark and a colour that only repeat what the text says. */
const MARKS: Record<string, string> = {
  running: '●',
  completed: '✓',
  stopped: '■',
  failed: '✕',
  cancelled: '○',
  terminated: '✕',
  timed_out: '✕',
};

export function Status({ status }: { status: string }) {
  return (
    <span className={`status status-${status}`}>
      <span aria-hidden="true">{MARKS[status] ?? '•'} </span>
      {status.replace('_', ' ')}
    </span>
  );
}
