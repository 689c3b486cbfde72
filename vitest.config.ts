import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // RGW is one shared server: files that use it must not race on bucket setup.
    fileParallelism: true,
    reporters: ['default'],
  },
})
