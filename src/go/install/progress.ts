import type { DownloadProgress } from './download.js';

export interface ProgressBar extends DownloadProgress {
  stop(): void;
}

function mib(n: number): string {
  return (n / 1024 / 1024).toFixed(1);
}

/**
 * A download bar on stderr when it is a terminal (cli-progress, loaded only then); null
 * otherwise, so logs and CI output get no control characters.
 */
export async function terminalProgress(label: string, total: number): Promise<ProgressBar | null> {
  if (process.stderr.isTTY !== true) return null;
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: `envd: ${label} [{bar}] {percentage}% {done}/{size} MiB`,
    barCompleteChar: '=',
    barIncompleteChar: ' ',
    hideCursor: true,
    clearOnComplete: true,
    fps: 10,
  });
  bar.start(Math.max(total, 1), 0, { done: mib(0), size: total > 0 ? mib(total) : '?' });
  return {
    update(done, size) {
      if (size > 0 && bar.getTotal() !== size) bar.setTotal(size);
      bar.update(done, { done: mib(done), size: size > 0 ? mib(size) : '?' });
    },
    stop() {
      bar.stop();
    },
  };
}
