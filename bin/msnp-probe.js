#!/usr/bin/env node
// Node 22+ caches compiled modules between runs (start-up is most of a one-target probe); a no-op on Node 20.
import module from 'node:module';
module.enableCompileCache?.();
const { run } = await import('../dist/cli.mjs');
await run();
