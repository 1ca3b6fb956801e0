// go.dev names platforms as GOOS/GOARCH; Node names them its own way.

const ARCH: Readonly<Record<string, string>> = {
  x64: 'amd64',
  arm64: 'arm64',
  ia32: '386',
  arm: 'armv6l',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
};

const OS: Readonly<Record<string, string>> = {
  linux: 'linux',
  darwin: 'darwin',
  freebsd: 'freebsd',
  openbsd: 'openbsd',
  netbsd: 'netbsd',
};

export interface GoPlatform {
  os: string;
  arch: string;
}

/** This machine as go.dev's listing names it, or null where Go publishes no tarball. */
export function goPlatform(platform: string = process.platform, arch: string = process.arch): GoPlatform | null {
  const os = Object.prototype.hasOwnProperty.call(OS, platform) ? OS[platform] : undefined;
  const a = Object.prototype.hasOwnProperty.call(ARCH, arch) ? ARCH[arch] : undefined;
  return os === undefined || a === undefined ? null : { os, arch: a };
}
