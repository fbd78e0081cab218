import axe from 'axe-core';

/**
 * The serious and critical axe-core violations in `root` (jsdom cannot lay out or paint, so
 * colour contrast is left to the browser tests). Empty is good:
 *
 *   expect(await seriousViolations(document.body)).toEqual([]);
 */
export async function seriousViolations(root: Element): Promise<string[]> {
  const results = await axe.run(root, {
    rules: { 'color-contrast': { enabled: false } },
    resultTypes: ['violations'],
  });
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}
