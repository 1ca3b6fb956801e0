/**
 * Runs a compiled plan in a real interactive shell and collects what it printed. The
 * shell starts with no system or user rc files; the sandbox's own rc file (which holds
 * only the tool's hook line, as its documentation says to write it) is sourced first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { emitScript } from './emit.js';
import type { Shell, Step } from './plan.js';
import { moreShellArgv } from './more-shells.js';
import { quoteBash, quoteFish } from '../env/quote.js';

export interface ShellRun {
  /** Samples in microseconds, by label, in the order taken. */
  samples: Map<string, number[]>;
  /** `@F` records: a check that did not hold. */
  failures: string[];
  /** `@V` records. */
  values: string[];
  /** bash and zsh: samples and failures in the order printed (a check right after a sample is about it). */
  events: Array<{ label: string; us: number } | { failure: string }>;
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  shell: Shell;
  /** The rc file with the hook line. */
  rcFile: string;
  /** Where the compiled script is written. */
  scriptFile: string;
  env: Record<string, string>;
  cwd: string;
  timeoutMs: number;
  /** Called for each stdout line as it arrives (barriers). */
  onLine?: (line: string) => void;
}


export function shellArgv(shell: Shell, rcFile: string, scriptFile: string): string[] {
  switch (shell) {
    case 'bash':
      return ['bash', '--noprofile', '--norc', '-i', '-c', `source ${quoteBash(rcFile)}; source ${quoteBash(scriptFile)}`];
    case 'zsh':
      return ['zsh', '-f', '-i', '-c', `source ${quoteBash(rcFile)}; source ${quoteBash(scriptFile)}`];
    case 'fish':
      return ['fish', '--no-config', '-i', '-c', `source ${quoteFish(rcFile)}; source ${quoteFish(scriptFile)}`];
    default:
      return moreShellArgv(shell, rcFile, scriptFile);
  }
}

const UNIT_US: Record<string, number> = { micros: 1, millis: 1e3, secs: 1e6, mins: 60e6 };

/** fish's `time` report: `Executed in   12.27 millis    fish   external`. */
function parseFishTime(line: string): number | null {
  const m = /^Executed in\s+([0-9.]+)\s+(micros|millis|secs|mins)\b/.exec(line.trim());
  if (m === null) return null;
  const unit = UNIT_US[m[2] ?? ''];
  return unit === undefined ? null : Number(m[1]) * unit;
}

function addSample(map: Map<string, number[]>, label: string, us: number): void {
  const list = map.get(label);
  if (list === undefined) map.set(label, [us]);
  else list.push(us);
}

export interface StartedRun {
  child: ChildProcess;
  done: Promise<ShellRun>;
}

/** Start the shell; `done` settles when it exits (or is killed at the timeout). */
export function startPlan(steps: Step[], opts: RunOptions): StartedRun {
  writeFileSync(opts.scriptFile, emitScript(opts.shell, steps));
  const [cmd, ...args] = shellArgv(opts.shell, opts.rcFile, opts.scriptFile);
  // stderr into a file, read once the shell is done: the tools' messages (and fish's time
  // reports) on a pipe would wake this process in the middle of what it times, on the
  // cores the timed tools share.
  const errFile = `${opts.scriptFile}.err`;
  const errFd = openSync(errFile, 'w');
  let child: ChildProcess;
  try {
    child = spawn(cmd ?? opts.shell, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', errFd] });
  } finally {
    closeSync(errFd);
  }
  const done = new Promise<ShellRun>((resolve) => {
    const result: ShellRun = { samples: new Map(), failures: [], values: [], events: [], status: null, signal: null, stderr: '', timedOut: false };
    let outBuf = '';
    let errBuf = '';
    let pendingFish: string | null = null;
    const stdoutLine = (line: string): void => {
      opts.onLine?.(line);
      if (line.startsWith('@S ')) {
        const parts = line.split(' ');
        const us = Number(parts[2]);
        if (parts[1] !== undefined && Number.isFinite(us)) {
          addSample(result.samples, parts[1], us);
          result.events.push({ label: parts[1], us });
        }
      } else if (line.startsWith('@F ')) {
        result.failures.push(line.slice(3));
        result.events.push({ failure: line.slice(3) });
      } else if (line.startsWith('@V ')) {
        result.values.push(line.slice(3));
      }
    };
    const stderrLine = (line: string): void => {
      if (line.startsWith('@T ')) {
        pendingFish = line.slice(3);
        return;
      }
      if (pendingFish !== null) {
        const us = parseFishTime(line);
        if (us !== null) {
          addSample(result.samples, pendingFish, us);
          pendingFish = null;
          return;
        }
      }
      // Keep the rest for diagnostics, without the time reports' other lines.
      if (/^(_{10,}|\s+(usr|sys) time\s)/.test(line) || line === '') return;
      if (result.stderr.length < 64 * 1024) result.stderr += line + '\n';
    };
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      outBuf += chunk;
      let nl: number;
      while ((nl = outBuf.indexOf('\n')) !== -1) {
        stdoutLine(outBuf.slice(0, nl));
        outBuf = outBuf.slice(nl + 1);
      }
    });
    const timer = setTimeout(() => {
      result.timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      if (outBuf !== '') stdoutLine(outBuf);
      try {
        errBuf = readFileSync(errFile, 'utf8');
        rmSync(errFile, { force: true });
      } catch {
        errBuf = '';
      }
      let nl: number;
      while ((nl = errBuf.indexOf('\n')) !== -1) {
        stderrLine(errBuf.slice(0, nl));
        errBuf = errBuf.slice(nl + 1);
      }
      if (errBuf !== '') stderrLine(errBuf);
      result.status = status;
      result.signal = signal;
      resolve(result);
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      result.stderr += `spawn failed: ${err.message}\n`;
      resolve(result);
    });
  });
  return { child, done };
}

export function runPlan(steps: Step[], opts: RunOptions): Promise<ShellRun> {
  return startPlan(steps, opts).done;
}
