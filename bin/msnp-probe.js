#!/usr/bin/env node
import module from 'node:module';
// The bundled CLI loads Node's built-ins with process.getBuiltinModule (Node 20.16+, 22.3+).
if (typeof process.getBuiltinModule !== 'function') {
  process.stderr.write(`msnp-probe: needs Node.js 20.19+, 22.12+ or 23+ (this is ${process.version})\n`);
  process.exit(2);
}
// Node 22+ caches compiled modules between runs (start-up is most of a one-target probe); a no-op on Node 20.
module.enableCompileCache?.();
const cli = new URL('../dist/cli.mjs', import.meta.url);
let loaded;
try {
  loaded = await import(cli.href);
} catch (err) {
  // A clone installed with --ignore-scripts (or never built) has no dist/: say how to make it.
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('cli.mjs')) throw err;
  process.stderr.write('msnp-probe: the build is missing (dist/cli.mjs); run `npm run build` in the package first\n');
  process.exit(4);
}
await loaded.run();
