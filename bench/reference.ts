/**
 * Case 3 of `npm run bench`: msnp-probe next to two reference probers that do exactly its work, in
 * one run, against a C epoll MSNP server (bench/c/server.c, so the server is never what is measured):
 * a plain Node.js prober (bench/reference-prober.mjs, `net` only: the runtime's limit) and a C epoll
 * prober (bench/c/prober.c: the machine's limit). The C programs are compiled with `cc -O2` into a
 * temporary directory at run time; without `cc`, the C prober is skipped and the server is the Node
 * emulator (bench/emulators.ts), which the report says.
 *
 * 3a. One target, MSNP2-21 + the combined offer, 50 ms reply delay, `-c 21`.
 * 3b. Bare start: `msnp-probe --version` next to `node -e 0`.
 * 3c. Many targets x 21 connections at msnp-probe's defaults: 1,000; with --big also 10,000 and
 *     100,000. Up to 1,000 targets are distinct ports of 127.0.0.1; more are distinct
 *     (127.1.x.y, port) pairs on 1,000 ports bound to the loopback device (needs root).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runNode, startNodeService, startService, type RunResult, type Service } from './child.js';
import { FLOOR_SCRIPT } from './scripts.js';

const BIN = fileURLToPath(new URL('../../bin/msnp-probe.js', import.meta.url));
const REFERENCE = fileURLToPath(new URL('../../bench/reference-prober.mjs', import.meta.url));
const C_DIR = fileURLToPath(new URL('../../bench/c/', import.meta.url));
const EMULATORS = fileURLToPath(new URL('./emulators.js', import.meta.url));
/** msnp-probe's defaults (src/probe/probe.ts, src/probe/scan.ts, src/transport/exchange.ts). */
const DEFAULTS = { perTarget: 4, global: 64, timeoutMs: 5000, lingerMs: 250 };
/** Ports per server process when there are more targets than that: the rest are other 127.x addresses. */
const PORTS = 1000;

/** The goals of the benchmark targets. */
export const GOALS = { oneTargetVsFloor: 1.2, startupMs: 15, manyVsNode: 1.1, manyRssMb: 10, workers: 1.6 };

export interface ReferenceOptions {
  rounds: number;
  big: boolean;
  /** Target counts for 3c instead of 1,000 (or, with big, 1,000, 10,000 and 100,000). */
  many?: number[];
  /** Rounds of 3c at 1,000 targets or fewer (larger lists run once). */
  manyRounds: number;
  log: (text: string) => void;
  remainingMs: () => number;
}

interface Compiled {
  server: string | null;
  prober: string | null;
  note: string;
  dir: string | null;
}

function compile(log: (t: string) => void): Compiled {
  const cc = spawnSync('cc', ['--version'], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) {
    const note = '`cc` not found: the C prober is skipped and the server is the Node emulator (bench/emulators.ts).';
    return { server: null, prober: null, dir: null, note };
  }
  const dir = mkdtempSync(join(tmpdir(), 'msnp-bench-c-'));
  const build = (name: string): string | null => {
    const out = join(dir, name);
    const r = spawnSync('cc', ['-O2', '-o', out, join(C_DIR, `${name}.c`)], { encoding: 'utf8' });
    if (r.status !== 0) {
      log(`cc -O2 ${name}.c failed: ${(r.stderr ?? '').split('\n')[0]}`);
      return null;
    }
    return out;
  };
  const server = build('server');
  const prober = build('prober');
  const version = (cc.stdout.split('\n')[0] ?? '').trim();
  return { server, prober, dir, note: `C programs built with \`cc -O2\` (${version}).` };
}

interface Server {
  service: Service;
  ports: number[];
}

async function startServer(c: Compiled, ports: number, delayMs: number, anyOnLo: boolean): Promise<Server> {
  const args = ['-n', String(ports), '-d', String(delayMs), ...(anyOnLo ? ['-l'] : [])];
  const service = c.server
    ? await startService(c.server, args, /^ready /, 30_000)
    : await startNodeService([EMULATORS, String(ports), 'escargot', String(delayMs)], /^ready /, 60_000);
  return { service, ports: (JSON.parse(service.readyLine.slice('ready '.length)) as { ports: number[] }).ports };
}

const connectionsSeen = async (s: Service): Promise<number> =>
  (JSON.parse(await s.request('stats')) as { connections: number }).connections;

/** `count` distinct loopback endpoints: ports of 127.0.0.1, or (127.1.x.y, port) pairs past one address. */
function targetList(count: number, ports: number[], anyOnLo: boolean): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const a = Math.floor(i / ports.length);
    const host = anyOnLo ? `127.1.${1 + Math.floor(a / 250)}.${1 + (a % 250)}` : '127.0.0.1';
    lines.push(`${host}:${ports[i % ports.length]}\n`);
  }
  return lines.join('');
}

type ProberKey = 'msnp' | 'msnp2' | 'node' | 'node2' | 'c' | 'floor' | 'bare' | 'version';
interface Sample {
  wallMs: number;
  rssMb: number;
  cpuMs: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const fixed = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const int = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const sample = (r: RunResult): Sample => ({
  wallMs: r.wallMs,
  rssMb: r.usage ? (r.usage.maxRssKiB * 1024) / 1e6 : NaN,
  cpuMs: r.usage ? r.usage.userMs + r.usage.systemMs : NaN,
});
const signed = (x: number): string => `${x >= 0 ? '+' : ''}${fixed(x, 1)}`;
const pass = (ok: boolean): string => (ok ? '**met**' : '**not met**');

/** Accepted replies in NDJSON lines of any of the three probers: every probe and offer says its status. */
const acceptedIn = (line: string): number => line.split('"status":"accepted"').length - 1;

interface Runner {
  key: ProberKey;
  label: string;
  run: (stdin: string, timeoutMs: number, onLine: (l: string) => void, extra: string[]) => Promise<RunResult>;
}

function runners(c: Compiled, perTarget: number, workers: boolean): Runner[] {
  const refArgs = ['2', '21', perTarget, DEFAULTS.global, 1, DEFAULTS.timeoutMs, DEFAULTS.lingerMs].map(String);
  const list: Runner[] = [
    {
      key: 'msnp',
      label: workers ? '**msnp-probe** `--workers 1` (one thread)' : '**msnp-probe**',
      run: (stdin, timeoutMs, onLine, extra) =>
        runNode([BIN, ...extra, ...(workers ? ['--workers', '1'] : [])], { stdin, onLine, usage: true, timeoutMs }),
    },
    {
      key: 'node',
      label: 'plain Node reference (`bench/reference-prober.mjs`)',
      run: (stdin, timeoutMs, onLine) => runNode([REFERENCE, ...refArgs], { stdin, onLine, usage: true, timeoutMs }),
    },
  ];
  if (workers) {
    // The machine's own parallel ceiling for this work: two plain-Node probers at once, each with
    // half the list and half the global budget. `--workers 2` cannot beat what this reaches.
    const halfArgs = refArgs.map((a, i) => (i === 3 ? String(Math.floor(DEFAULTS.global / 2)) : a));
    list.push({
      key: 'node2',
      label: 'plain Node reference, two processes at once, each on half the list (the parallel ceiling)',
      run: async (stdin, timeoutMs, onLine) => {
        const lines = stdin.split(/(?<=\n)/);
        const half = Math.ceil(lines.length / 2);
        const parts = [lines.slice(0, half).join(''), lines.slice(half).join('')];
        const started = performance.now();
        const runs = await Promise.all(
          parts.map((part) => runNode([REFERENCE, ...halfArgs], { stdin: part, onLine, usage: true, timeoutMs })),
        );
        const [a, b] = runs as [RunResult, RunResult];
        const usage =
          a.usage && b.usage
            ? {
                ...a.usage,
                maxRssKiB: a.usage.maxRssKiB + b.usage.maxRssKiB,
                userMs: a.usage.userMs + b.usage.userMs,
                systemMs: a.usage.systemMs + b.usage.systemMs,
              }
            : null;
        const failed = runs.find((r) => r.code !== 0 || r.timedOut) ?? a;
        return { ...failed, wallMs: performance.now() - started, usage, timedOut: a.timedOut || b.timedOut };
      },
    });
    list.push({
      key: 'msnp2',
      label: '**msnp-probe** `--workers 2`',
      run: (stdin, timeoutMs, onLine, extra) =>
        runNode([BIN, ...extra, '--workers', '2'], { stdin, onLine, usage: true, timeoutMs }),
    });
  }
  if (c.prober) {
    const prober = c.prober;
    list.push({
      key: 'c',
      label: 'C epoll reference (`bench/c/prober.c`)',
      run: (stdin, timeoutMs, onLine) => runNode(refArgs, { command: prober, stdin, onLine, usage: true, timeoutMs }),
    });
  }
  return list;
}

async function oneTarget(c: Compiled, o: ReferenceOptions, goals: string[]): Promise<string[]> {
  o.log(`case 3a: one target, 50 ms delay, ${o.rounds} rounds + 1 warm-up`);
  const { service, ports } = await startServer(c, 1, 50, false);
  const port = ports[0] as number;
  const target = `127.0.0.1:${port}`;
  const probers = runners(c, 21, false);
  const samples = new Map<ProberKey, Sample[]>();
  const failures: string[] = [];
  const floor: Runner = {
    key: 'floor',
    label: 'floor: `node -e`, 1 connection, 1 VER, 1 reply line',
    run: (_s, timeoutMs, onLine) =>
      runNode(['-e', FLOOR_SCRIPT, '127.0.0.1', String(port)], { onLine, usage: true, timeoutMs }),
  };
  const all = [floor, ...probers];
  try {
    for (let round = 0; round <= o.rounds; round++) {
      const order = all.map((_, i) => all[(i + round) % all.length] as Runner);
      for (const p of order) {
        let accepted = 0;
        let lines = 0;
        const r = await p.run(
          `${target}\n`,
          20_000,
          (l) => {
            lines++;
            accepted += acceptedIn(l);
          },
          [target, '-c', '21', '-r', '2-21', '--ndjson', '--no-progress'],
        );
        const ok = r.code === 0 && !r.timedOut && (p.key === 'floor' ? lines === 1 : lines === 1 && accepted === 21);
        if (round === 0) continue;
        const why = `${p.key}: exit ${r.code ?? r.signal}, ${accepted} accepted ${r.stderr.split('\n')[0] ?? ''}`;
        if (!ok) failures.push(why);
        else samples.set(p.key, [...(samples.get(p.key) ?? []), sample(r)]);
      }
    }
  } finally {
    await service.stop();
  }
  const wall = (k: ProberKey): number => median((samples.get(k) ?? []).map((s) => s.wallMs));
  const out = [
    `#### 3a. One target, MSNP2-21 + offer, 50 ms reply delay, \`-c 21\` (${o.rounds} rounds, interleaved)`,
    '',
    '| prober | median wall ms | every run, ms | median peak RSS MB | vs plain Node | vs floor |',
    '|---|--:|---|--:|--:|--:|',
  ];
  for (const p of all) {
    const s = samples.get(p.key) ?? [];
    out.push(
      `| ${p.label} | ${int(wall(p.key))} | ${s.map((x) => int(x.wallMs)).join(', ')} | ` +
        `${fixed(median(s.map((x) => x.rssMb)), 1)} | ` +
        `${fixed(wall(p.key) / wall('node'))}x | ${fixed(wall(p.key) / wall('floor'))}x |`,
    );
  }
  if (failures.length) out.push('', `- Failed runs (not in the medians): ${failures.slice(0, 5).join('; ')}`);
  out.push('');
  const ratio = wall('msnp') / wall('floor');
  goals.push(
    `| one target within ${GOALS.oneTargetVsFloor}x of the floor | ${fixed(ratio)}x (${int(wall('msnp'))} ms vs ` +
      `${int(wall('floor'))} ms; plain Node ${fixed(wall('node') / wall('floor'))}x, ` +
      `C ${fixed(wall('c') / wall('floor'))}x) | ${pass(ratio <= GOALS.oneTargetVsFloor)} |`,
  );
  return out;
}

async function bareStart(o: ReferenceOptions, goals: string[]): Promise<string[]> {
  o.log(`case 3b: --version vs node -e 0, ${o.rounds} rounds + 1 warm-up`);
  const bare: number[] = [];
  const version: number[] = [];
  for (let round = 0; round <= o.rounds; round++) {
    const pair = round % 2 ? (['bare', 'version'] as const) : (['version', 'bare'] as const);
    for (const k of pair) {
      const r = await runNode(k === 'bare' ? ['-e', '0'] : [BIN, '--version'], { timeoutMs: 20_000 });
      if (round > 0 && r.code === 0) (k === 'bare' ? bare : version).push(r.wallMs);
    }
  }
  const diff = median(version) - median(bare);
  const times = `${int(median(version))} ms vs ${int(median(bare))} ms, ${fixed(median(version) / median(bare))}x`;
  goals.push(
    `| bare start within ${GOALS.startupMs} ms of \`node -e 0\` | ${signed(diff)} ms (${times}) | ` +
      `${pass(diff <= GOALS.startupMs)} |`,
  );
  return [
    `#### 3b. Bare start (${o.rounds} rounds, interleaved)`,
    '',
    '| program | median wall ms | every run, ms | vs `node -e 0` |',
    '|---|--:|---|--:|',
    `| \`node -e 0\` (the floor and the reference) | ${int(median(bare))} | ${bare.map(int).join(', ')} | 1.00x |`,
    `| **\`msnp-probe --version\`** | ${int(median(version))} | ${version.map(int).join(', ')} | ` +
      `${fixed(median(version) / median(bare))}x (${signed(diff)} ms) |`,
    '',
  ];
}

async function manyTargets(
  c: Compiled,
  o: ReferenceOptions,
  count: number,
  rounds: number,
  goals: string[],
): Promise<string[]> {
  const anyOnLo = count > PORTS;
  o.log(`case 3c: ${int(count)} targets x 21 connections, ${rounds} round(s)${count <= PORTS ? ' + 1 warm-up' : ''}`);
  if (anyOnLo && !c.server) return [`- ${int(count)} targets: skipped (needs the C server, see above).`, ''];
  let server: Server;
  try {
    server = await startServer(c, Math.min(count, PORTS), 0, anyOnLo);
  } catch (err) {
    const why = String(err).split('\n')[0];
    return [`- ${int(count)} targets: skipped, the server did not start (${why}; more than ${PORTS} need root).`, ''];
  }
  const list = targetList(count, server.ports, anyOnLo);
  const probers = runners(c, DEFAULTS.perTarget, true);
  const samples = new Map<ProberKey, Sample[]>();
  // Each round's runs side by side: a ratio within one round is steadier than a ratio of medians
  // when the machine's load drifts between rounds.
  const byRound: Array<Partial<Record<ProberKey, Sample>>> = [];
  const failures: string[] = [];
  const connections = count * 21;
  try {
    for (let round = count <= PORTS ? 0 : 1; round <= rounds; round++) {
      for (const p of probers.map((_, i) => probers[(i + round) % probers.length] as Runner)) {
        if (o.remainingMs() < 30_000) {
          failures.push(`${p.key}: skipped, the bench's time budget was nearly spent`);
          continue;
        }
        let lines = 0;
        let accepted = 0;
        const before = await connectionsSeen(server.service);
        const r = await p.run(
          list,
          Math.min(o.remainingMs() - 10_000, 60_000 + count * 10),
          (l) => {
            lines++;
            accepted += acceptedIn(l);
          },
          ['--targets', '-', '--ndjson', '--no-progress'],
        );
        const seen = (await connectionsSeen(server.service)) - before;
        // Fewer would mean lost probes. More happens on a shared machine: other programs' tests that
        // connect to a port they think is closed can land on one of the server's ~1,000 ports.
        const ok = r.code === 0 && !r.timedOut && lines === count && accepted === connections && seen >= connections;
        const counts = `${int(lines)} lines, ${int(accepted)} accepted, server saw ${int(seen)}`;
        if (ok && seen > connections && round > 0) {
          const extra = int(seen - connections);
          failures.push(`${p.key}: the server counted ${extra} more connections than it made (another program)`);
        }
        o.log(`case 3c: ${p.key} ${int(count)} targets: ${int(r.wallMs)} ms${ok ? '' : ` (${counts})`}`);
        if (round === 0) continue;
        if (!ok) failures.push(`${p.key}: exit ${r.code ?? r.signal}${r.timedOut ? ' timed out' : ''}, ${counts}`);
        else {
          const one = sample(r);
          samples.set(p.key, [...(samples.get(p.key) ?? []), one]);
          byRound[round] = { ...byRound[round], [p.key]: one };
        }
      }
    }
  } finally {
    await server.service.stop();
  }
  const m = (k: ProberKey, f: (s: Sample) => number): number => median((samples.get(k) ?? []).map(f));
  const paired = (a: ProberKey, b: ProberKey, f: (s: Sample) => number): number => {
    const ratios = byRound.flatMap((r) => {
      const x = r?.[a];
      const y = r?.[b];
      return x && y ? [f(x) / f(y)] : [];
    });
    return median(ratios);
  };
  const wall = (k: ProberKey): number => m(k, (s) => s.wallMs);
  const rss = (k: ProberKey): number => m(k, (s) => s.rssMb);
  const out = [
    `#### 3c. ${int(count)} targets x 21 connections at the defaults (${rounds} round${rounds > 1 ? 's' : ''}` +
      `${anyOnLo ? `; targets are (127.1.x.y, port) pairs over ${PORTS} ports` : ', one port each'})`,
    '',
    '| prober | median wall s | connections/s | peak RSS MB | CPU s | wall vs plain Node | wall vs C (the floor) | ' +
      'RSS vs plain Node |',
    '|---|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const p of probers) {
    out.push(
      `| ${p.label} | ${fixed(wall(p.key) / 1000)} | ${int(connections / (wall(p.key) / 1000))} | ` +
        `${fixed(rss(p.key), 1)} | ${fixed(m(p.key, (s) => s.cpuMs) / 1000)} | ` +
        `${fixed(wall(p.key) / wall('node'))}x | ${fixed(wall(p.key) / wall('c'))}x | ` +
        `${signed(rss(p.key) - rss('node'))} MB |`,
    );
  }
  if (failures.length) {
    out.push('', `- Failed or skipped runs (not in the medians), and notes: ${failures.slice(0, 6).join('; ')}`);
  }
  out.push('');
  const ratio = wall('msnp') / wall('node');
  const extra = rss('msnp') - rss('node');
  goals.push(
    `| ${int(count)} targets: within ${GOALS.manyVsNode}x of plain Node's wall time ` +
      `and ${GOALS.manyRssMb} MB of its RSS | ` +
      `${fixed(ratio)}x, ${signed(extra)} MB (C: ${fixed(wall('c') / wall('node'))}x; within each round, ` +
      `median ${fixed(paired('msnp', 'node', (x) => x.wallMs))}x the wall time, ` +
      `${fixed(paired('msnp', 'node', (x) => x.cpuMs))}x the CPU time) | ` +
      `${pass(ratio <= GOALS.manyVsNode && extra <= GOALS.manyRssMb)} |`,
  );
  // Throughput is connections over wall time: the ratio of the two walls.
  const speedup = wall('msnp') / wall('msnp2');
  const ceiling = wall('node') / wall('node2');
  goals.push(
    `| ${int(count)} targets: \`--workers 2\` at least ${GOALS.workers}x the one-thread throughput on ` +
      `${cpus().length} cores | ${fixed(speedup)}x (${fixed(wall('msnp2') / 1000)} s vs ` +
      `${fixed(wall('msnp') / 1000)} s; vs plain Node ${fixed(wall('msnp2') / wall('node'))}x its wall time, ` +
      `${signed(rss('msnp2') - rss('node'))} MB; the machine's ceiling, two plain-Node processes ` +
      `against one: ${fixed(ceiling)}x; within each round, median ` +
      `${fixed(paired('msnp', 'msnp2', (x) => x.wallMs))}x, ceiling ` +
      `${fixed(paired('node', 'node2', (x) => x.wallMs))}x) | ${pass(speedup >= GOALS.workers)} |`,
  );
  return out;
}

/** Runs case 3 and returns its Markdown section. Every child is stopped before it returns. */
export async function referenceCase(o: ReferenceOptions): Promise<string> {
  const c = compile(o.log);
  const loadBefore = loadavg();
  const sizes = o.many ?? (o.big ? [1000, 10_000, 100_000] : [1000]);
  const goals: string[] = [];
  const body: string[] = [];
  try {
    body.push(...(await oneTarget(c, o, goals)));
    body.push(...(await bareStart(o, goals)));
    for (const n of sizes) body.push(...(await manyTargets(c, o, n, n <= PORTS ? o.manyRounds : 1, goals)));
  } finally {
    if (c.dir) rmSync(c.dir, { recursive: true, force: true });
  }
  const out = [
    '### Case 3: msnp-probe next to the plain-Node and C reference probers',
    '',
    `Server: ${c.server ? 'the C epoll server (`bench/c/server.c`)' : 'the Node emulator'}. ${c.note} ` +
      "Both reference probers do msnp-probe's work: one connection per version plus the combined offer, " +
      `the first CRLF line, our FIN and up to ${DEFAULTS.lingerMs} ms for the server's, ` +
      `at most ${DEFAULTS.perTarget} connections per target (21 in 3a) and ${DEFAULTS.global} in all, ` +
      `a ${DEFAULTS.timeoutMs} ms deadline per connection, one NDJSON line per target. ` +
      'Wall time from spawn to exit; peak RSS = VmHWM; every run is checked (one line per target, ' +
      '21 accepted replies each, and the server counted at least 21 connections per target).',
    '',
    // The ratios come from interleaved runs, so shared load moves them less than the absolute times.
    `- Load average (1 min) at the start of case 3: ${fixed(loadBefore[0] ?? NaN)}, at its end: ` +
      `${fixed(loadavg()[0] ?? NaN)}, on ${cpus().length} cores.`,
    '',
    '| goal | measured | |',
    '|---|---|---|',
    ...goals,
    '',
    ...(goals.some((g) => g.includes(pass(false)))
      ? [
          'For a goal not met, docs/BENCHMARKS.md ("What caps each case") gives the profile that shows what caps it.',
          '',
        ]
      : []),
    ...body,
  ];
  if (Math.max(...sizes) < 100_000) {
    out.push(
      '- Larger lists: `node dist/bench/bench.js --case 3 --big` runs 1,000, 10,000 and 100,000 targets ' +
        '(20-30 minutes; more than 1,000 targets need root), `--many 10000` one size.',
      '',
    );
  }
  return out.join('\n');
}
