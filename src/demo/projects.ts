import { join } from 'node:path';
import type { DemoSandbox } from './sandbox.js';
import type { SdkChoice } from './sdks.js';

/** The demo's projects, all under ~/projects in the sandbox. */
export interface DemoProjects {
  legacy: string;
  canary: string;
  blocked: string;
  slow: string;
}

/** How long the slow project's .envrc sleeps, in seconds. */
export const SLOW_SECONDS = 2;

/** What the blocked project exports once approved. */
export const GREETING_VAR = 'DEMO_GREETING';
export const GREETING = 'hello from an approved .envrc';
export const SLOW_VAR = 'SLOW_READY';

function tomlString(s: string): string {
  return JSON.stringify(s);
}

export function writeConfig(sb: DemoSandbox, sdks: SdkChoice): void {
  const dirs = sdks.sdkDirs.map(tomlString).join(', ');
  sb.write(join(sb.env.XDG_CONFIG_HOME ?? sb.inHome('.config'), 'envd', 'envd.toml'), `# The demo sandbox's envd config (docs/configuration.md lists every key).

[global]
# A prompt waits this long for an .envrc before saying "still loading" and moving on;
# the evaluation goes on in the daemon and is applied at a later prompt.
async_budget = "200ms"

[go]
# Where the demo's Go SDKs are${sdks.legacy.demo ? ' (stand-in SDKs written by the demo: not real Go)' : ''}.
sdk_dirs = [${dirs}]
# layout go gives each project its own GOCACHE under .direnv/.
cache = "project"
`);
}

export function writeProjects(sb: DemoSandbox, sdks: SdkChoice): DemoProjects {
  const p = (name: string): string => sb.inHome('projects', name);
  const projects: DemoProjects = { legacy: p('go-legacy'), canary: p('go-canary'), blocked: p('needs-approval'), slow: p('slow') };
  const { legacy, canary } = sdks;

  sb.write(join(projects.legacy, '.envrc'), `# Pinned to Go ${legacy.minor} by name; layout go gives the project its own GOPATH and GOCACHE.
use go ${legacy.minor}
layout go
`);
  sb.write(join(projects.legacy, 'go.mod'), `module example.com/go-legacy\n\ngo ${legacy.minor}\n`);
  sb.write(join(projects.legacy, 'main.go'), 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello from go-legacy") }\n');

  sb.write(join(projects.canary, '.envrc'), `# No version here: use go reads go.mod's toolchain line.
use go
layout go
`);
  sb.write(join(projects.canary, 'go.mod'), `module example.com/go-canary\n\ngo ${canary.minor}\n\ntoolchain go${canary.version}\n`);
  sb.write(join(projects.canary, 'main.go'), 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello from go-canary") }\n');

  sb.write(join(projects.blocked, '.envrc'), `# Not approved yet: envd refuses to run it until you read it and run 'envd allow'.
export ${GREETING_VAR}=${JSON.stringify(GREETING)}
PATH_add bin
`);
  sb.write(join(projects.blocked, 'bin', 'demo-hello'), `#!/bin/sh\necho "demo-hello: on PATH only inside needs-approval"\n`, 0o755);

  sb.write(join(projects.slow, '.envrc'), `# Takes ${SLOW_SECONDS} seconds, like a slow 'nix develop' or a cloud CLI call. The prompt does not wait.
sleep ${SLOW_SECONDS}
export ${SLOW_VAR}=yes
`);
  return projects;
}
