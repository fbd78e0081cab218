/**
 * Diffs for the agent's version history: a line diff (longest common subsequence) for the system
 * prompt, and a field diff for the rest of a version.
 */

export interface DiffLine {
  kind: 'same' | 'added' | 'removed';
  text: string;
  /** Line number in the old text (same, removed). */
  oldNo?: number;
  /** Line number in the new text (same, added). */
  newNo?: number;
}

/** Above this many cells, the LCS table is not built: the old text is removed, the new added. */
const MAX_CELLS = 4_000_000;

function splitLines(text: string): string[] {
  return text === '' ? [] : text.replace(/\r\n?/g, '\n').split('\n');
}

/** The lines of `before` and `after`, each kept, removed or added, in order (LCS line diff). */
export function lineDiff(before: string, after: string): DiffLine[] {
  const a = splitLines(before);
  const b = splitLines(after);
  // Common head and tail need no table.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);

  const out: DiffLine[] = [];
  for (let i = 0; i < head; i++) out.push({ kind: 'same', text: a[i] ?? '', oldNo: i + 1, newNo: i + 1 });

  const n = midA.length;
  const m = midB.length;
  if (n * m > MAX_CELLS) {
    midA.forEach((text, i) => out.push({ kind: 'removed', text, oldNo: head + i + 1 }));
    midB.forEach((text, j) => out.push({ kind: 'added', text, newNo: head + j + 1 }));
  } else {
    // lcs[i][j]: length of the LCS of midA[i..] and midB[j..], in one flat array.
    const width = m + 1;
    const lcs = new Uint32Array((n + 1) * width);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * width + j] =
          midA[i] === midB[j]
            ? (lcs[(i + 1) * width + j + 1] ?? 0) + 1
            : Math.max(lcs[(i + 1) * width + j] ?? 0, lcs[i * width + j + 1] ?? 0);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && midA[i] === midB[j]) {
        out.push({ kind: 'same', text: midA[i] ?? '', oldNo: head + i + 1, newNo: head + j + 1 });
        i++;
        j++;
      } else if (j < m && (i >= n || (lcs[i * width + j + 1] ?? 0) >= (lcs[(i + 1) * width + j] ?? 0))) {
        out.push({ kind: 'added', text: midB[j] ?? '', newNo: head + j + 1 });
        j++;
      } else {
        out.push({ kind: 'removed', text: midA[i] ?? '', oldNo: head + i + 1 });
        i++;
      }
    }
  }

  for (let k = 0; k < tail; k++) {
    const oldIndex = a.length - tail + k;
    const newIndex = b.length - tail + k;
    out.push({ kind: 'same', text: a[oldIndex] ?? '', oldNo: oldIndex + 1, newNo: newIndex + 1 });
  }
  return out;
}

/** JSON with object keys sorted, so that two equal values print alike. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : 1)))
      : v,
  );
}

export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

/**
 * The fields whose values differ between two records, in the order of `fields` (or of the keys
 * of both, when not given). Values are compared as JSON, keys in any order.
 */
export function fieldDiff<T extends object>(
  before: T,
  after: T,
  fields?: readonly (keyof T & string)[],
): FieldChange[] {
  const b = before as Record<string, unknown>;
  const a = after as Record<string, unknown>;
  const names = fields ?? [...new Set([...Object.keys(b), ...Object.keys(a)])];
  const changes: FieldChange[] = [];
  for (const field of names) {
    if (stableJson(b[field] ?? null) !== stableJson(a[field] ?? null)) {
      changes.push({ field, before: b[field], after: a[field] });
    }
  }
  return changes;
}
