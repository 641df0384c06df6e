import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { inShard } from '../src/probe/targets.js';
import type { ReportDocument, TargetDocument } from '../src/report/render/json.js';
import {
  BIN,
  PATIENCE_MS,
  ROOT,
  TEST_TIMEOUT_MS,
  closedPort,
  runBin,
  type RunResult,
  checkDocument,
} from './helpers.js';

const PROFILES = ['escargot', 'msn-2000', 'msn-2003', 'msn-2007', 'remessenger', 'msn-2014', 'escargot-2017'];
const RANGE = ['-r', '5-16'];

/** An error reply's code; other outcomes have none. */
const codeOf = (p: object): number | null => (p as { code?: number }).code ?? null;

/** A target's result, without timings or addresses: what must not change when a scan is sharded. */
function result(t: TargetDocument): unknown {
  return {
    target: `${t.host}:${t.port}`,
    answered: t.answered,
    accepted: t.accepted,
    preferred: t.preferred,
    probes: t.probes.map((p) => [p.version, p.status, codeOf(p)]),
    offer: t.offer ? [t.offer.status, codeOf(t.offer)] : null,
  };
}
const lines = (text: string): TargetDocument[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TargetDocument);

describe('sharding: --shard auto and msnp-probe merge', { timeout: TEST_TIMEOUT_MS * 3 }, () => {
  const emulators: Emulator[] = [];
  let dir = '';
  let list = '';
  /** Emulators, then one loopback port nobody listens on, in list order. */
  let targets: string[] = [];
  before(async () => {
    for (const profile of PROFILES) emulators.push(await startEmulator({ profile, host: '127.0.0.1', port: 0 }));
    targets = [...emulators.map((e) => `127.0.0.1:${e.port}`), `127.0.0.1:${await closedPort()}`];
    dir = await mkdtemp(join(tmpdir(), 'msnp-shard-'));
    list = join(dir, 'list.txt');
    await writeFile(list, `# shards of this list\n${targets.join('\n')}\n`);
  });
  after(async () => {
    await Promise.all(emulators.map((e) => e.close()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const probe = (extra: string[], env?: Record<string, string>): Promise<RunResult> =>
    runBin(['--targets', list, ...RANGE, ...extra], { timeoutMs: PATIENCE_MS * 2, ...(env ? { env } : {}) });
  const shardFile = async (name: string, r: RunResult): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, r.stdout);
    return path;
  };

  test('--shard auto: I is JOB_COMPLETION_INDEX + 1, N is --shards or MSNP_PROBE_SHARDS', async () => {
    const names = Array.from({ length: 9 }, (_, i) => `host${i}.invalid`);
    const seen: string[] = [];
    for (const index of [0, 1, 2]) {
      const env = { JOB_COMPLETION_INDEX: String(index), ...(index === 2 ? { MSNP_PROBE_SHARDS: '3' } : {}) };
      const shards = index === 2 ? [] : ['--shards', '3'];
      const r = await runBin([...names, '-r', '8', '--no-offer', '--ndjson', '--shard', 'auto', ...shards], { env });
      const hosts = lines(r.stdout).map((t) => t.host);
      const expected = names.filter((h) => inShard({ host: h, port: 1863 }, { index: index + 1, count: 3 }));
      assert.deepEqual(hosts.sort(), expected.sort(), `index ${index}`);
      seen.push(...hosts);
    }
    assert.deepEqual(seen.sort(), [...names].sort());
  });

  test('--shard auto: a missing, non-numeric or out-of-range index is one usage line, exit 2', async () => {
    const shards4 = ['--shards', '4'];
    const cases: [Record<string, string>, string[], RegExp][] = [
      [{}, ['--shards', '4'], /^msnp-probe: --shard auto: JOB_COMPLETION_INDEX is not set/],
      [{ JOB_COMPLETION_INDEX: 'x' }, shards4, /^msnp-probe: --shard auto: JOB_COMPLETION_INDEX 'x' is not a whole/],
      [{ JOB_COMPLETION_INDEX: '4' }, shards4, /^msnp-probe: --shard auto: JOB_COMPLETION_INDEX 4 is outside 0\.\.3/],
      [{ JOB_COMPLETION_INDEX: '0' }, [], /^msnp-probe: --shard auto: needs the shard count/],
      [{ JOB_COMPLETION_INDEX: '0', MSNP_PROBE_SHARDS: 'many' }, [], /^msnp-probe: MSNP_PROBE_SHARDS: 'many' is not/],
    ];
    for (const [env, extra, message] of cases) {
      // The child must not see a value from the environment the tests run in.
      const clean = { JOB_COMPLETION_INDEX: '', MSNP_PROBE_SHARDS: '', ...env };
      const r = await runBin(['nowhere.invalid', '--shard', 'auto', ...extra], { env: clean });
      assert.equal(r.code, 2, JSON.stringify(env));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });

  test('N shards merged are the unsharded run, in list order, as NDJSON, JSON and the matrix', async () => {
    const whole = await probe(['--ndjson']);
    assert.equal(whole.code, 3, whole.stderr); // the closed port never answers
    const wholeJson = await probe(['--json']);
    const wholeTable = await probe([]);
    // Three shards by `--shard auto`, one written as a --json document: the formats mix.
    const files: string[] = [];
    for (const index of [0, 1, 2]) {
      const format = index === 1 ? '--json' : '--ndjson';
      const r = await probe(['--shard', 'auto', '--shards', '3', format], { JOB_COMPLETION_INDEX: String(index) });
      assert.ok(r.code === 0 || r.code === 3, r.stderr);
      files.push(await shardFile(`s${index}.${index === 1 ? 'json' : 'ndjson'}`, r));
    }
    const merged = await runBin(['merge', '--targets', list, '--ndjson', ...files]);
    assert.equal(merged.code, 0, merged.stderr);
    assert.equal(merged.stderr, '');
    const inListOrder = lines(whole.stdout).sort((a, b) => order(a) - order(b));
    assert.deepEqual(lines(merged.stdout).map(result), inListOrder.map(result));
    assert.deepEqual(
      lines(merged.stdout).map((t) => `${t.host}:${t.port}`),
      targets,
    );

    const json = await runBin(['merge', '--targets', list, '--json', ...files.reverse()]);
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as ReportDocument;
    checkDocument(doc);
    assert.deepEqual(doc.targets.map(result), (JSON.parse(wholeJson.stdout) as ReportDocument).targets.map(result));

    // Rows of the unsharded matrix come as targets finish: compare them as a set, then the summary.
    const table = await runBin(['merge', ...files]);
    assert.equal(table.code, 0, table.stderr);
    const rows = (text: string): string[] => text.trimEnd().split('\n');
    assert.deepEqual([...rows(table.stdout)].sort(), [...rows(wholeTable.stdout)].sort());
    assert.match(table.stdout, /\n8 targets, 7 answered as MSNP\n$/);
    function order(t: TargetDocument): number {
      return targets.indexOf(`${t.host}:${t.port}`);
    }
  });

  test('without --targets: sorted by host, then port; a duplicate is kept once, from the first file', async () => {
    const whole = await probe(['--ndjson']);
    const a = await shardFile('a.ndjson', whole);
    const r = await runBin(['merge', '--ndjson', a, a]);
    assert.equal(r.code, 0, r.stderr);
    const ports = lines(r.stdout).map((t) => t.port);
    assert.deepEqual(
      ports,
      [...ports].sort((x, y) => x - y),
    );
    assert.equal(ports.length, targets.length);
    const dropped = /^msnp-probe: merge: 8 duplicate results dropped, the earlier file's kept \(first: 127\.0\.0\.1:/;
    assert.match(r.stderr, dropped);
    assert.equal(r.stderr.split('\n').length, 2, r.stderr);
  });

  test('a killed shard: its cut last line is named and skipped; --targets names what is missing, exit 1', async () => {
    const whole = await probe(['--ndjson']);
    const text = whole.stdout.trimEnd();
    const cut = join(dir, 'cut.ndjson');
    await writeFile(cut, text.slice(0, text.length - 25));
    const lost = lines(whole.stdout).at(-1);
    assert.ok(lost);
    const plain = await runBin(['merge', '--ndjson', cut]);
    assert.equal(plain.code, 0, plain.stderr);
    const skipped = /^msnp-probe: merge: '.*cut\.ndjson' line 8 is cut off \(a killed shard\?\); merged without it\n$/;
    assert.match(plain.stderr, skipped);
    assert.equal(lines(plain.stdout).length, targets.length - 1);
    const listed = await runBin(['merge', '--targets', list, '--ndjson', cut]);
    assert.equal(listed.code, 1);
    assert.match(listed.stderr, new RegExp(`1 target of --targets has no result: 127\\.0\\.0\\.1:${lost.port}\\n$`));
    assert.equal(lines(listed.stdout).length, targets.length - 1);
  });

  test('an empty shard adds nothing; bad input is one usage line, exit 2', async () => {
    const empty = join(dir, 'empty.ndjson');
    await writeFile(empty, '');
    const emptyJson = join(dir, 'empty.json');
    await writeFile(emptyJson, JSON.stringify({ schemaVersion: 1, targets: [] }));
    const none = await runBin(['merge', '--json', empty, emptyJson]);
    assert.equal(none.code, 0, none.stderr);
    assert.deepEqual((JSON.parse(none.stdout) as ReportDocument).targets, []);
    const junk = join(dir, 'junk.txt');
    await writeFile(junk, 'hello\nworld\n');
    const cases: [string[], RegExp][] = [
      [['merge'], /^msnp-probe: merge: give the shard outputs/],
      [['merge', join(dir, 'nope.ndjson')], /^msnp-probe: merge: cannot read '.*nope\.ndjson': ENOENT/],
      [['merge', dir], /^msnp-probe: merge: cannot read .*: EISDIR/],
      [['merge', junk], /^msnp-probe: merge: '.*junk\.txt': line 1 is neither/],
      [['merge', '--json', '--ndjson', empty], /choose one output/],
      [['merge', '--port', '1', empty], /^msnp-probe: --port: only with --targets/],
      [['merge', '--bogus', empty], /unknown option --bogus/],
    ];
    for (const [argv, message] of cases) {
      const r = await runBin(argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });

  test('docs/SHARDING.md: every sh example runs here, and the Indexed Job manifest has what it needs', async () => {
    const doc = readFileSync(`${ROOT}docs/SHARDING.md`, 'utf8');
    const blocks = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    assert.ok(blocks.length >= 2);
    // `msnp-probe` on PATH is this build; the list is the emulators'.
    const bin = join(dir, 'bin');
    await rm(bin, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(bin));
    await writeFile(join(bin, 'msnp-probe'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    await chmod(join(bin, 'msnp-probe'), 0o755);
    const work = await mkdtemp(join(dir, 'docs-'));
    // Only servers that answer, so each shard exits 0 as the examples expect.
    await writeFile(join(work, 'list.txt'), `${targets.slice(0, -1).join('\n')}\n`);
    const PATH = `${bin}${delimiter}${process.env['PATH'] ?? ''}`;
    const env = { ...process.env, PATH, JOB_COMPLETION_INDEX: '', MSNP_PROBE_SHARDS: '' };
    const sh = (line: string): Promise<RunResult> =>
      new Promise((resolve, reject) => {
        const child = spawn('sh', ['-c', line], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        child.on('error', reject);
        child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
      });
    const hasParallel = (await sh('parallel --version')).code === 0;
    for (const line of blocks
      .join('')
      .split('\n')
      .filter((l) => l.trim() !== '')) {
      let commands = [line];
      const p = /^parallel (.*) ::: (.*)$/.exec(line);
      if (p && !hasParallel) {
        // What GNU parallel runs: the command once per argument, {} replaced, a quoted '>' a redirection.
        const template = (p[1] ?? '').replaceAll("'>'", '>');
        commands = (p[2] ?? '').split(' ').map((arg) => template.replaceAll('{}', arg));
      }
      for (const command of commands) {
        const r = await sh(command);
        assert.equal(r.code, 0, `${command}: ${r.stderr}`);
        // With random ports a shard may get no target: it says so and writes nothing, exit 0. An
        // --ndjson run ends with its one-line summary.
        const quiet = r.stderr
          .replace('msnp-probe: no targets to probe (empty list or empty shard)\n', '')
          .replace(/^msnp-probe: \d+ targets?, \d+ probes?, .* probes\/s\n$/m, '');
        assert.equal(quiet, '', command);
      }
    }
    const key = (t: TargetDocument): string => JSON.stringify(result(t));
    const rows = (text: string): string[] => lines(text).map(key);
    const all = rows(await readFile(join(work, 'all.ndjson'), 'utf8'));
    assert.equal(all.length, targets.length - 1);
    const fromJson = (JSON.parse(await readFile(join(work, 'all.json'), 'utf8')) as ReportDocument).targets.map(key);
    assert.deepEqual(fromJson, all);
    const whole = await runBin(['--targets', join(work, 'list.txt'), '--json']);
    assert.deepEqual((JSON.parse(whole.stdout) as ReportDocument).targets.map(key), all);

    const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(yaml);
    const job = parseYaml(yaml) as {
      kind: string;
      spec: { completionMode: string; completions: number; parallelism: number; template: { spec: unknown } };
    };
    assert.equal(job.kind, 'Job');
    assert.equal(job.spec.completionMode, 'Indexed');
    assert.equal(typeof job.spec.parallelism, 'number');
    const pod = job.spec.template.spec as {
      containers: { command: string[]; volumeMounts: { name: string; mountPath: string }[] }[];
      volumes: { name: string }[];
    };
    const container = pod.containers[0];
    assert.ok(container);
    const script = container.command.join(' ');
    assert.match(script, new RegExp(`--shard auto --shards ${job.spec.completions} --ndjson`));
    assert.match(script, /--targets \/list\/targets\.txt/);
    assert.match(script, /> \/out\/shard-\$JOB_COMPLETION_INDEX\.ndjson/);
    for (const mount of container.volumeMounts)
      assert.ok(
        pod.volumes.some((v) => v.name === mount.name),
        mount.name,
      );
    assert.deepEqual(container.volumeMounts.map((m) => m.mountPath).sort(), ['/list', '/out']);
  });
});
