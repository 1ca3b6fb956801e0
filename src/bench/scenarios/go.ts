/**
 * Go switching: outside every project `go` is 1.21; the project pins 1.22. One sample is
 * `cd` into the project, the prompt, and `go version` answering (and saying go1.22).
 * envd: `use go 1.22`; direnv: the explicit `.envrc` (GOROOT + PATH_add); mise:
 * `[tools] go = "1.22"` with the local SDK linked in (`mise link`), no download.
 */
import { existsSync } from 'node:fs';
import { enter, medianCell } from '../context.js';
import { capture, cd, cdPrompt, expectOut, fullShells, prompt, repeat, time } from '../plan.js';
import { MiseTool, TOOLS } from '../tools.js';
import { eachTool, makeProjects, newRow, smallSpec, type Scenario } from './common.js';

const GO = { version: '1.22', root: '/usr/lib/go-1.22' };
const OUTSIDE = 'go1.21';

export const goSwitch: Scenario = {
  id: 'go',
  about: 'cd into a project pinned to Go 1.22 (1.21 outside) until `go version` answers',
  async run(ctx) {
    const n = ctx.n(30, 5);
    const rows = [];
    for (const shell of fullShells(ctx.opts.shells)) {
      const row = newRow('go', 'Go switch: enter until `go version`', shell, `median of ${n} (cached project)`);
      await eachTool(ctx, row, TOOLS, async (tool) => {
        if (!existsSync(`${GO.root}/bin/go`) || !existsSync('/usr/lib/go-1.21/bin/go')) return { value: null, n: 0, note: 'n/a: Go 1.21 and 1.22 SDKs not installed' };
        const box = await ctx.box(tool);
        if (tool instanceof MiseTool && tool.linkGo(box, GO.root) === null) {
          return { value: null, n: 0, note: 'n/a: mise could not link the local SDK' };
        }
        const [p] = await makeProjects(tool, box, 'go', 1, (dir) => ({ ...smallSpec(dir), go: GO }));
        if (p === undefined) throw new Error('no project');
        const run = await ctx.run(tool, box, shell, [
          cd(box.outside),
          prompt,
          capture(['go', 'version']),
          expectOut(OUTSIDE, 'go outside the project'),
          // The first entry (envd discovers the SDKs, evaluates) is not counted.
          ...enter(p.dir, p.name, p.value, 'first entry'),
          repeat(n, [
            ...cdPrompt(box.outside),
            capture(['go', 'version']),
            expectOut(OUTSIDE, 'go after leaving'),
            time('go', [...cdPrompt(p.dir), capture(['go', 'version'])]),
            expectOut('go1.22', 'go inside the project'),
          ]),
        ]);
        return medianCell(run, 'go', n);
      });
      rows.push(row);
    }
    return rows;
  },
};
