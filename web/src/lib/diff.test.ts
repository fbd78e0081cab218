import { describe, expect, it } from 'vitest';

import { fieldDiff, lineDiff, stableJson } from './diff';

const show = (lines: ReturnType<typeof lineDiff>) =>
  lines.map((l) => `${l.kind === 'same' ? ' ' : l.kind === 'added' ? '+' : '-'}${l.text}`);

describe('lineDiff (LCS)', () => {
  it('keeps common lines and marks the others', () => {
    expect(show(lineDiff('a\nb\nc\nd', 'a\nc\nd\ne'))).toEqual([' a', '-b', ' c', ' d', '+e']);
  });

  it('finds the longest common subsequence, not just the common ends', () => {
    const out = lineDiff('x\na\nb\nc\ny', 'z\na\nc\nb\nw');
    expect(out.filter((l) => l.kind === 'same').map((l) => l.text)).toHaveLength(2);
    // Every old line is kept or removed once, every new line kept or added once, in order.
    expect(out.filter((l) => l.kind !== 'added').map((l) => l.text)).toEqual(['x', 'a', 'b', 'c', 'y']);
    expect(out.filter((l) => l.kind !== 'removed').map((l) => l.text)).toEqual(['z', 'a', 'c', 'b', 'w']);
  });

  it('numbers the lines of both sides', () => {
    const out = lineDiff('one\ntwo', 'zero\none\ntwo');
    expect(out).toEqual([
      { kind: 'added', text: 'zero', newNo: 1 },
      { kind: 'same', text: 'one', oldNo: 1, newNo: 2 },
      { kind: 'same', text: 'two', oldNo: 2, newNo: 3 },
    ]);
  });

  it('handles empty texts and identical ones', () => {
    expect(lineDiff('', '')).toEqual([]);
    expect(show(lineDiff('', 'a\nb'))).toEqual(['+a', '+b']);
    expect(show(lineDiff('a\nb', ''))).toEqual(['-a', '-b']);
    expect(show(lineDiff('a\r\nb', 'a\nb'))).toEqual([' a', ' b']);
  });
});

describe('fieldDiff', () => {
  it('lists the fields that changed, in the order asked', () => {
    const before = { model: 'a', tools: ['x'], max_steps: 10, schema: { b: 1, a: 2 } };
    const after = { model: 'b', tools: ['x'], max_steps: 5, schema: { a: 2, b: 1 } };
    expect(fieldDiff(before, after, ['max_steps', 'model', 'tools', 'schema'])).toEqual([
      { field: 'max_steps', before: 10, after: 5 },
      { field: 'model', before: 'a', after: 'b' },
    ]);
  });

  it('compares lists in order and null with a missing value', () => {
    expect(fieldDiff({ tools: ['a', 'b'], t: null }, { tools: ['b', 'a'], t: undefined })).toEqual([
      { field: 'tools', before: ['a', 'b'], after: ['b', 'a'] },
    ]);
  });

  it('stableJson sorts keys at every depth', () => {
    expect(stableJson({ b: { d: 1, c: 2 }, a: [{ y: 1, x: 2 }] })).toBe('{"a":[{"x":2,"y":1}],"b":{"c":2,"d":1}}');
  });
});
