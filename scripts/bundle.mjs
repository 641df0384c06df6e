// Bundles the CLI (compiled by tsc into dist/src) into dist/cli.mjs and its chunks in dist/cli-chunks/.
// Start-up is most of a one-target probe, and Node 20 spends much of it resolving and compiling dozens
// of module files (yargs alone is ~20); a few bundled files load measurably faster (docs/BENCHMARKS.md).
// Code splitting keeps each dynamic import() a chunk of its own, loaded when the command runs it: a
// probe does not compile the emulator, the exporter or the badge code, and `--version` compiles
// none of them, nor yargs. The library keeps its unbundled modules (dist/src): `import 'msnp-probe'`.
import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { isBuiltin } from 'node:module';
import { build } from 'esbuild';

/** The help text's layout code: its own CommonJS file, required the first time help is laid out. */
const HELP_TEXT = 'help-text.cjs';

/**
 * yargs lays out help with cliui and measures it with string-width (and they, wrap-ansi,
 * get-east-asian-width, emoji-regex: ~65 kB), but only when help is printed. Bundled into the
 * main chunk, every probe compiled them; the modules of string-width 7/8 also built an
 * Intl.Segmenter and Unicode regular expressions as they loaded. Here yargs' imports of `cliui`
 * and `string-width` become stubs that require dist/cli-chunks/help-text.cjs on their first call:
 * the packages' own code, bundled by buildHelpText() from where yargs resolves them.
 * (cli-table3's CommonJS string-width 4 is cheap to load and is left alone.)
 */
const deferHelpText = {
  name: 'defer-help-text',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^(cliui|string-width)$/ }, (args) => {
      if (args.kind !== 'import-statement') return undefined;
      return { path: args.path, namespace: 'deferred-help-text' };
    });
    pluginBuild.onResolve({ filter: new RegExp(`^\\./${HELP_TEXT.replace('.', '\\.')}$`) }, (args) => ({
      path: args.path,
      external: true,
    }));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'deferred-help-text' }, (args) => {
      const name = args.path === 'cliui' ? 'cliui' : 'stringWidth';
      return {
        // `require` is the bundle's own (its banner), relative to the chunk in dist/cli-chunks/.
        contents: `let helpText;
export default function ${name}(...args) {
  helpText ??= require('./${HELP_TEXT}');
  return helpText.${name}(...args);
}
`,
        loader: 'js',
      };
    });
  },
};

/** Bundles yargs' `cliui` and `string-width`, resolved from yargs' own directory, into HELP_TEXT. */
async function buildHelpText() {
  await build({
    stdin: {
      contents: "export { default as cliui } from 'cliui';\nexport { default as stringWidth } from 'string-width';\n",
      resolveDir: 'node_modules/yargs/lib/platform-shims',
      sourcefile: 'help-text.js',
    },
    outfile: `dist/cli-chunks/${HELP_TEXT}`,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    legalComments: 'inline',
    logLevel: 'warning',
  });
}

/**
 * An ESM import of a Node built-in builds a module facade that reads every export, and some
 * exports are lazy getters that load more of Node: node:http's load undici (about 20 ms on Node
 * 22), node:fs's its streams. In the bundle every static `import` of a built-in becomes the
 * CommonJS-style `process.getBuiltinModule(id)` (Node 20.16+, 22.3+; package.json's engines),
 * whose exports esbuild reads only when used. Dynamic import() and require() are left alone.
 * The price: a named export a built-in lacks is `undefined` at its use instead of an error at
 * start-up. TypeScript checks ours; the dependencies are pinned and run by the tests.
 */
const builtinsWithoutFacade = {
  name: 'builtins-without-facade',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^(node:)?[a-z0-9_/]+$/ }, (args) => {
      // isBuiltin on the specifier as written: a bare `test` or `sqlite` is an npm package, not node:test.
      if (args.kind !== 'import-statement' || !isBuiltin(args.path)) return undefined;
      const id = args.path.startsWith('node:') ? args.path : `node:${args.path}`;
      return { path: id, namespace: 'builtin' };
    });
    pluginBuild.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({
      contents: `module.exports = process.getBuiltinModule(${JSON.stringify(args.path)});\n`,
      loader: 'js',
    }));
  },
};

/**
 * yargs() guesses the program's version at creation: it lists directories from its shim's
 * `mainFilename` up to the first package.json and parses that. Bundled, that start is the user's
 * working directory (the shim looks for `node_modules` in its own path), so every run read the
 * listing of whatever directory the user stood in and the package.json of their project, for a
 * version the parser replaces with ours (`.version(PACKAGE.version)`). Without a finder the
 * guess is empty, as yargs handles a missing package.json; nothing else in yargs uses it.
 * That miss is a failed assertion, caught: with node:assert, loading it and building its
 * AssertionError (message, diff) cost ~1.5 ms, for yargs' internal invariants (their TypeScript
 * narrowing, never a user's message). The shim's two checks throw a plain Error instead.
 */
const yargsWithoutPackageLookup = {
  name: 'yargs-without-package-lookup',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const edits = [
        ["import escalade from 'escalade/sync'\n", ''],
        ['findUp: escalade,', 'findUp: () => undefined,'],
        ["import { notStrictEqual, strictEqual } from 'assert'\n", ''],
        [
          'assert: {\n    notStrictEqual,\n    strictEqual\n  },',
          `assert: {
    notStrictEqual: (a, b, message) => { if (Object.is(a, b)) throw new Error(message ?? 'yargs: ' + String(a)); },
    strictEqual: (a, b, message) => { if (!Object.is(a, b)) throw new Error(message ?? 'yargs: ' + String(a)); },
  },`,
        ],
      ];
      let patched = text;
      for (const [from, to] of edits) {
        // A yargs upgrade that moved these lines must fail the build, not quietly undo the edit.
        if (!patched.includes(from))
          throw new Error(`${args.path}: no ${JSON.stringify(from)} where the bundle expects it`);
        patched = patched.replace(from, to);
      }
      return { contents: patched, loader: 'js' };
    });
  },
};

/**
 * esbuild splits the code by the set of entry points (the CLI and each import()) that reach it,
 * so the modules a probe needs were spread over a dozen chunks shared with the subcommands and
 * renderers, and Node 20 resolves, reads and links each file in turn. Those lazy modules run only
 * after main has loaded: importing main from each of them (a no-op when they run) gives main's
 * closure one set of entry points, and so one chunk. The worker threads' module (workers.js) is an
 * entry point of its own, so a worker still loads the probe code without yargs and the parser.
 */
const MAIN = resolve('dist/src/cli/main.js');
const commandsAfterMain = {
  name: 'commands-after-main',
  setup(pluginBuild) {
    const lazy = new RegExp(
      String.raw`[\\/]dist[\\/]src[\\/]` +
        String.raw`(cli[\\/](serve|exporter|badge|merge)-command|report[\\/]render[\\/](text|matrix|svg))\.js$`,
    );
    pluginBuild.onLoad({ filter: lazy }, (args) => ({
      contents: `${readFileSync(args.path, 'utf8')}\nimport ${JSON.stringify(MAIN)};\n`,
      loader: 'js',
    }));
  },
};

// Chunks of an earlier build would ship with this one (package.json's "files" takes the directory).
rmSync('dist/cli-chunks', { recursive: true, force: true });
await buildHelpText();

await build({
  entryPoints: { cli: 'dist/src/cli/process.js', 'cli-chunks/worker': 'dist/src/cli/workers.js' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: 'cli-chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  legalComments: 'inline',
  logLevel: 'warning',
  plugins: [deferHelpText, builtinsWithoutFacade, yargsWithoutPackageLookup, commandsAfterMain],
  // Only `exporter` uses these, through import() when it starts: bundled, every command would parse them
  // (about 25 ms of start-up); left out, they load from the package's own dependencies.
  external: ['prom-client', 'yaml'],
  // CommonJS dependencies (cli-table3) call require(); give the ESM bundle a real one.
  banner: {
    js:
      "import { createRequire as __msnpCreateRequire } from 'node:module'; " +
      'const require = __msnpCreateRequire(import.meta.url);',
  },
});
