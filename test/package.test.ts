import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/sandbox.js';

// The npm package ships the product only: the CLI, daemon, hooks, stdlib and docs; not the
// benchmarks, the demo, the tests or the TypeScript sources (`npm run bench` and
// `npm run demo` work from a clone).
describe('the npm package', () => {
  it('holds the product and nothing of bench, demo, tests or sources', () => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const [pack] = JSON.parse(r.stdout) as { files: { path: string }[] }[];
    const files = (pack?.files ?? []).map((f) => f.path);
    for (const must of ['bin/envd', 'dist/envd.cjs', 'dist/envd-bundle.cjs', 'dist/cli/main.js', 'dist/daemon/run.js', 'shells/bash/hook.bash', 'shells/zsh/hook.zsh', 'shells/fish/hook.fish', 'shells/bash/completion.bash', 'shells/zsh/completion.zsh', 'shells/fish/completion.fish', 'stdlib/00-core.sh', 'package.json', 'dist/front-door/root', 'dist/front-door/hook-bash', 'dist/front-door/hook.bash']) {
      expect(files, must).toContain(must);
    }
    expect(files.filter((f) => /^(dist\/(bench|demo)|src|test)\//.test(f))).toEqual([]);
  });
});
