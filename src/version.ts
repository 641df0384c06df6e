import { readFileSync } from 'node:fs';

/** The package's own name and version, read once from package.json next to dist/. */
function readPackage(): { name: string; version: string } {
  try {
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    const pkg = JSON.parse(text) as { name?: unknown; version?: unknown };
    return { name: String(pkg.name ?? 'msnp-probe'), version: String(pkg.version ?? '0.0.0') };
  } catch {
    return { name: 'msnp-probe', version: '0.0.0' };
  }
}

export const PACKAGE = readPackage();
