import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Tests drive the real binary, real shells and real daemons: give them time and run
// files in separate processes. Two cores here: two workers, so the tests that bound a
// prompt's wait are not starved by the machine's own load.
export default defineConfig({
  // The user pass (scripts/test-as-user.sh) may not write into a root-owned checkout.
  ...(process.env.ENVD_TEST_PASS === 'user' ? { cacheDir: join(tmpdir(), `envd-vitest-${process.getuid?.() ?? 0}`) } : {}),
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
