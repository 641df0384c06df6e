// Bundles the CLI (compiled by tsc into dist/src) into one file, dist/cli.mjs. Start-up is most of a
// one-target probe, and Node 20 spends much of it resolving and compiling dozens of module files
// (yargs alone is ~20); one file loads measurably faster (docs/BENCHMARKS.md). The library keeps
// its unbundled modules (dist/src), which is what `import 'msnp-probe'` gets.
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/src/cli/process.js'],
  outfile: 'dist/cli.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  legalComments: 'inline',
  logLevel: 'warning',
  // CommonJS dependencies (cli-table3) call require(); give the ESM bundle a real one.
  banner: { js: "import { createRequire as __msnpCreateRequire } from 'node:module'; const require = __msnpCreateRequire(import.meta.url);" },
});
