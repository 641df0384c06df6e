import { readFileSync } from 'node:fs';

/** The package's own name and version, read once from package.json next to dist/. */
function readPackage(): { name: string; version: string } {
  // dist/src/core/version.js (the library), dist/cli.mjs and dist/cli-chunks/*.mjs (the bundled CLI)
  // sit at different depths.
  for (const path of ['../../../package.json', '../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === 'msnp-probe') return { name: pkg.name, version: String(pkg.version ?? '0.0.0') };
    } catch {
      // not at this depth
    }
  }
  return { name: 'msnp-probe', version: '0.0.0' };
}

export const PACKAGE = readPackage();
