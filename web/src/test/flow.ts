/** What @xyflow/react needs of a browser that jsdom lacks (it lays nothing out): call before rendering a graph. */
export function stubLayout(): void {
  if (!('ResizeObserver' in globalThis)) {
    class NoResize {
      observe() {}
      unobserve() {}
      disconnect() {}
    }
    (globalThis as unknown as { ResizeObserver: unknown }).ResizeObserver = NoResize;
  }
  if (!('DOMMatrixReadOnly' in globalThis)) {
    class Matrix {
      m22: number;
      constructor(transform?: string) {
        const scale = /scale\(([\d.]+)\)/.exec(transform ?? '');
        this.m22 = scale ? Number(scale[1]) : 1;
      }
    }
    (globalThis as unknown as { DOMMatrixReadOnly: unknown }).DOMMatrixReadOnly = Matrix;
  }
}
