import { defineConfig } from 'vitest/config';

// Tests drive the real binary, real shells and real daemons: give them time and run
// files in separate processes; two cores here, so keep concurrency modest.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 3,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
