import { statSync } from 'node:fs';

// Checks made on every walk up a directory tree, where a missing path is the common case:
// no exception for it (exceptions are what made these show in profiles), and false for
// anything unreadable.

export function isFile(p: string): boolean {
  try {
    return statSync(p, { throwIfNoEntry: false })?.isFile() === true;
  } catch {
    return false;
  }
}

export function isDirectory(p: string): boolean {
  try {
    return statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;
  } catch {
    return false;
  }
}
