import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { ROOT, runBin } from './helpers.js';

const run = promisify(execFile);
const readme = readFileSync(`${ROOT}README.md`, 'utf8');

test('the README API example runs and prints what it says', async () => {
  const block = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, 'a js block');
  const code = block.replace("from 'msnp-probe'", `from '${ROOT}dist/src/index.js'`);
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code]);
  const expected = /console\.log\(.*\); \/\/ (.*)/.exec(block)?.[1];
  assert.equal(stdout.trim(), expected);
});

test('the README set-up and usage commands that stay on this machine run', async () => {
  const local = [...readme.matchAll(/^(msnp-probe (?:demo|profiles)[^#\n]*)/gm)].map((m) => (m[1] ?? '').trim());
  assert.ok(local.length >= 3, `found ${local.join(' | ')}`);
  for (const line of local) {
    const r = await runBin(line.split(/\s+/).slice(1));
    assert.equal(r.code, 0, `${line}: ${r.stderr}`);
  }
  const demo = await runBin(['demo']);
  const summary = /\n(accepts .*)\n```/.exec(readme)?.[1];
  assert.ok(summary && demo.stdout.includes(summary), `npm start prints '${summary}'`);
});

test('every flag the README names exists in --help', async () => {
  const help = (await runBin(['--help'])).stdout + (await runBin(['serve', '--help'])).stdout;
  const usage = readFileSync(`${ROOT}docs/USAGE.md`, 'utf8');
  const flags = new Set([...(readme + usage).matchAll(/`(--[a-z][a-z-]*)/g)].map((m) => m[1] ?? ''));
  assert.ok(flags.size > 10);
  for (const flag of flags) {
    const name = flag.replace(/^--no-/, '--');
    assert.ok(help.includes(name), `${flag} is documented but not in --help`);
  }
});
