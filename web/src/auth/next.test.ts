import { describe, expect, it } from 'vitest';

import { safeNext, signInPath, withoutBasename } from './next';

describe('the next= of the sign-in page', () => {
  it('drops the router basename, which the router adds itself', () => {
    expect(withoutBasename('/ui/runs')).toBe('/runs');
    expect(withoutBasename('/ui')).toBe('/');
    expect(withoutBasename('/ui/')).toBe('/');
    expect(withoutBasename('/runs')).toBe('/runs');
    expect(withoutBasename('/uix/runs')).toBe('/uix/runs');
  });

  it('opens /runs, not /ui/ui/runs, from a next= written with the basename', () => {
    expect(safeNext('/ui/runs?agent=demo')).toBe('/runs?agent=demo');
    expect(safeNext('/runs')).toBe('/runs');
  });

  it('refuses other origins and the sign-in page itself', () => {
    expect(safeNext('//evil.example/x')).toBe('/');
    expect(safeNext('https://evil.example/')).toBe('/');
    expect(safeNext('/sign-in?next=/runs')).toBe('/');
    expect(safeNext('/ui/sign-in')).toBe('/');
    expect(safeNext(null)).toBe('/');
  });

  it('asks to come back to the page without the basename', () => {
    expect(signInPath(withoutBasename('/ui/runs'), '?page=2')).toBe('/sign-in?next=%2Fruns%3Fpage%3D2');
    expect(signInPath('/')).toBe('/sign-in');
  });
});
