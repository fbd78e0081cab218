import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// The API serves the built files under /ui (api/, issue 13); `npm run dev` proxies the API.
const api = process.env.ORCH_API ?? 'http://127.0.0.1:8000';

export default defineConfig({
  base: '/ui/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      '/v1': { target: api, changeOrigin: false },
      '/healthz': { target: api },
    },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
    restoreMocks: true,
  },
});
