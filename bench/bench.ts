/**
 * `npm run bench`: msnp-probe against emulated servers on loopback, measured as
 * whole processes, in one run.
 *
 * Case 1: one target, MSNP2-21, 50 ms injected reply latency, every probe in flight at once.
 *   msnp-probe's wall time next to the floor (a `node -e` that makes one connection and reads one
 *   reply: Node's start-up plus one round trip) and next to a sequential ten-line prober. The
 *   variants are run interleaved, several rounds, after one discarded warm-up round.
 * Case 2: throughput. 1,000 emulated servers (one child process, 1,000 listening ports) x 20
 *   versions, targets fed on stdin, --ndjson to a line-counting sink; probes per second and the
 *   prober's peak RSS, for a few --global-concurrency values. Then 100,000 targets generated on
 *   the fly into the prober's stdin (round-robin over the 1,000 ports, one version each).
 * Case 3 (bench/reference.ts): every case as a ratio to a plain-Node and a C reference prober doing
 *   the same work against a C epoll server, and to the floor.
 *
 * Every connection goes to 127.0.0.1. Every child is killed when the bench ends, and the whole run
 * is bounded (HARD_LIMIT_MS).
 */
import { cpus, totalmem, loadavg, release, platform, arch } from 'node:os';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cleanUp, runNode, startNodeService, type RunResult, type Service } from './child.js';
import { FLOOR_SCRIPT, RAW_CLIENT_SCRIPT, SEQUENTIAL_SCRIPT } from './scripts.js';
import { DEFAULT_GLOBAL_CONCURRENCY } from '../src/core/defaults.js';
import { referenceCase } from './reference.js';

const BIN = fileURLToPath(new URL('../../bin/msnp-probe.js', import.meta.url));
/** The library without the CLI: what the probing itself costs on top of start-up. */
const LIBRARY_SCRIPT = `
const { probe } = await import(${JSON.stringify(new URL('../src/probe/probe.js', import.meta.url).href)});
const versions = Array.from({ length: 20 }, (_, i) => i + 2);
const report = await probe({ host: process.argv[1], port: Number(process.argv[2]), versions, concurrency: 21 });
process.stdout.write(JSON.stringify(report) + '\\n');
`;
const EMULATORS = fileURLToPath(new URL('./emulators.js', import.meta.url));
const BIG = process.argv.includes('--big') || process.argv.includes('--many');
/** --big adds 2.3 million connections per prober; the default run stays near 5 minutes. */
const HARD_LIMIT_MS = BIG ? 2_700_000 : 330_000;
const STARTED = Date.now();
const remainingMs = (): number => HARD_LIMIT_MS - (Date.now() - STARTED);
/** msnp-probe's default --global-concurrency. */
const DEFAULT_GLOBAL = DEFAULT_GLOBAL_CONCURRENCY;

/** The benchmark targets. */
const TARGET_RATIO = 1.5;
const TARGET_PROBES_PER_S = 5000;
const TARGET_RSS_MB = 150;

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    case: { type: 'string' },
    targets: { type: 'string', default: '1000' },
    stream: { type: 'string', default: '100000' },
    help: { type: 'boolean', short: 'h' },
    big: { type: 'boolean' },
    many: { type: 'string' },
    'many-rounds': { type: 'string', default: '3' },
  },
});
if (flags.help) {
  process.stdout.write(
    'usage: node dist/bench/bench.js [--rounds N] [--case 1|2|3] [--targets N] [--stream N] [--big] ' +
      '[--many N,N...] [--many-rounds N]\n',
  );
  process.exit(0);
}
const positive = (name: string, text: string | undefined): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`bench: --${name} must be a whole number of at least 1\n`);
    process.exit(2);
  }
  return n;
};
const ROUNDS = positive('rounds', flags.rounds);
const MANY_ROUNDS = positive('many-rounds', flags['many-rounds']);
const SERVERS = positive('targets', flags.targets);
const STREAMED = positive('stream', flags.stream);
if (flags.case !== undefined && !['1', '2', '3'].includes(flags.case)) {
  process.stderr.write('bench: --case must be 1, 2 or 3\n');
  process.exit(2);
}
const MANY = flags.many === undefined ? undefined : flags.many.split(',').map((n) => positive('many', n));
const runCase = (n: string): boolean => flags.case === undefined || flags.case === n;

const log = (text: string): void => {
  process.stderr.write(`bench: ${text}\n`);
};

// ---------------------------------------------------------------------------------------------
// Small helpers

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
};
const min = (xs: number[]): number => Math.min(...xs);
const ms = (x: number): string => (Number.isFinite(x) ? `${Math.round(x)}` : 'n/a');
const fixed = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const mb = (kib: number | undefined): number => (kib === undefined ? NaN : (kib * 1024) / 1e6);
const verdict = (ok: boolean): string => (ok ? '**PASS**' : '**FAIL**');
const int = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');

function openFileLimit(): string {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const parts = line?.trim().split(/\s{2,}/) ?? [];
    return parts[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Sockets in TIME_WAIT on this machine (state 06 in /proc/net/tcp*), or null off Linux. */
function timeWaitCount(): number | null {
  let n = 0;
  try {
    for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
      for (const line of readFileSync(file, 'utf8').split('\n')) if (line.split(/\s+/)[4] === '06') n++;
    }
    return n;
  } catch {
    return null;
  }
}

function ephemeralRange(): string {
  try {
    return readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().replace(/\s+/, '-');
  } catch {
    return 'unknown';
  }
}

/** CPU time used by the whole machine so far (all cores, /proc/stat), in ms; null off Linux. */
function machineBusyMs(): number | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    // user nice system idle iowait irq softirq steal: everything but idle and iowait, in USER_HZ (100/s).
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
    return busy * 10;
  } catch {
    return null;
  }
}

/** CPU time of this process plus its children that have exited (/proc/self/stat utime..cstime), in ms. */
function ownCpuMs(): number | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    // Fields 14-17 of proc(5) (utime stime cutime cstime) are 11-14 after the ')'.
    return ((f[11] ?? 0) + (f[12] ?? 0) + (f[13] ?? 0) + (f[14] ?? 0)) * 10;
  } catch {
    return null;
  }
}

function describeFailure(r: RunResult): string {
  if (r.timedOut) return 'timed out';
  const err = r.stderr.trim().split('\n').slice(-2).join(' / ');
  return `exit ${r.code ?? r.signal}${err ? `: ${err.slice(0, 160)}` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// Case 1: one target, 50 ms latency

interface Variant {
  key: string;
  label: string;
  args: (port: number) => string[];
  /** Null when the run did what it should; otherwise why not. */
  check: (r: RunResult) => string | null;
  note?: string;
}

interface Case1Row {
  variant: Variant;
  samples: number[];
  failures: string[];
  detail: string;
}

function checkProbeJson(expectedOffer: boolean) {
  return (r: RunResult): string | null => {
    if (r.code !== 0) return describeFailure(r);
    try {
      const doc = JSON.parse(r.stdout) as {
        targets: { accepted: number[]; preferred: number | null; probes: unknown[]; offer: unknown }[];
      };
      const t = doc.targets[0];
      if (!t) return 'no target in the JSON';
      if (t.probes.length !== 20) return `${t.probes.length} probes, expected 20`;
      if (t.accepted.length !== 20) return `accepted ${t.accepted.length} of 20`;
      if (expectedOffer && t.preferred === null) return 'no preferred version from the offer';
      if (!expectedOffer && t.offer !== null) return 'an offer was sent';
      return null;
    } catch (err) {
      return `unparsable JSON: ${String(err)}`;
    }
  };
}

const CASE1_VARIANTS: Variant[] = [
  {
    key: 'startup',
    label: 'Node start-up alone: `node -e 0`',
    args: () => ['-e', '0'],
    check: (r) => (r.code === 0 ? null : describeFailure(r)),
    note: 'reference, no network',
  },
  {
    key: 'floor',
    label: 'floor: `node -e`, 1 connection, 1 VER, 1 reply line',
    args: (port) => ['-e', FLOOR_SCRIPT, '127.0.0.1', String(port)],
    check: (r) => (r.code === 0 && r.stdout.startsWith('VER 1 MSNP21') ? null : describeFailure(r)),
    note: '1 connection',
  },
  {
    key: 'version',
    label: '`msnp-probe --version`',
    args: () => [BIN, '--version'],
    check: (r) => (r.code === 0 ? null : describeFailure(r)),
    note: 'reference: start-up + module loading, no network',
  },
  {
    key: 'probe',
    label: '**msnp-probe** `-c 21 -r 2-21 --json`',
    args: (port) => [BIN, `127.0.0.1:${port}`, '-c', '21', '-r', '2-21', '--json'],
    check: checkProbeJson(true),
    note: '21 connections (20 VER + combined offer)',
  },
  {
    key: 'probeNoOffer',
    label: '**msnp-probe** `-c 21 -r 2-21 --json --no-offer`',
    args: (port) => [BIN, `127.0.0.1:${port}`, '-c', '21', '-r', '2-21', '--json', '--no-offer'],
    check: checkProbeJson(false),
    note: '20 connections',
  },
  {
    key: 'library',
    label: '`probe()` imported from dist/src/probe/probe.js by a `node -e`',
    args: (port) => ['--input-type=module', '-e', LIBRARY_SCRIPT, '127.0.0.1', String(port)],
    check: (r) => {
      if (r.code !== 0) return describeFailure(r);
      const accepted = (JSON.parse(r.stdout) as { accepted: number[] }).accepted.length;
      return accepted === 20 ? null : `accepted ${accepted} of 20`;
    },
    note: 'reference: the same 21 connections without the CLI layer',
  },
  {
    key: 'sequential',
    label: 'sequential ten-line `node -e`, MSNP2-21 one at a time',
    args: (port) => ['-e', SEQUENTIAL_SCRIPT, '127.0.0.1', String(port)],
    check: (r) => {
      if (r.code !== 0) return describeFailure(r);
      const answered = r.stdout.split('\n').filter((l) => /: VER 1 MSNP\d+\b/.test(l)).length;
      return answered === 20 ? null : `${answered} of 20 versions answered`;
    },
    note: '20 connections, one after another',
  },
];

async function case1(): Promise<string> {
  log(`case 1: emulator child (escargot, --delay 50), ${ROUNDS} interleaved rounds + 1 warm-up`);
  const emulator = await startNodeService(
    [BIN, 'serve', '--profile', 'escargot', '--port', '0', '--delay', '50', '--max-connections', '10000'],
    /listening on 127\.0\.0\.1:\d+/,
    20_000,
  );
  const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(emulator.readyLine)?.[1]);
  const rows: Case1Row[] = CASE1_VARIANTS.map((variant) => ({ variant, samples: [], failures: [], detail: '' }));
  const busyBefore = machineBusyMs();
  const ownBefore = ownCpuMs();
  const wallBefore = Date.now();
  try {
    for (let round = 0; round <= ROUNDS; round++) {
      // Rotate the order each round so no variant always runs right after the same neighbour.
      const order = rows.map((_, i) => rows[(i + round) % rows.length] as Case1Row);
      for (const row of order) {
        const r = await runNode(row.variant.args(port), { keepStdout: true, timeoutMs: 20_000 });
        const problem = row.variant.check(r);
        if (round === 0) continue; // warm-up: file cache, CPU frequency
        if (problem) row.failures.push(problem);
        else row.samples.push(r.wallMs);
      }
      if (round > 0) log(`case 1: round ${round}/${ROUNDS} done`);
    }
  } finally {
    await emulator.stop();
  }
  const busyAfter = machineBusyMs();
  const ownAfter = ownCpuMs();
  const other =
    busyBefore === null || busyAfter === null || ownBefore === null || ownAfter === null
      ? null
      : Math.max(0, busyAfter - busyBefore - (ownAfter - ownBefore)) / (Date.now() - wallBefore);

  const get = (key: string): Case1Row => rows.find((r) => r.variant.key === key) as Case1Row;
  const floor = median(get('floor').samples);
  const floorMin = min(get('floor').samples);
  const probe = median(get('probe').samples);
  const probeNoOffer = median(get('probeNoOffer').samples);
  const sequential = median(get('sequential').samples);
  const ratio = probe / floor;
  const ratioNoOffer = probeNoOffer / floor;

  const out: string[] = [];
  out.push(`### Case 1: one target, MSNP2-21, 50 ms reply latency (${ROUNDS} rounds, interleaved)`, '');
  out.push(
    'Wall time of the whole child process, from spawn to exit. ' +
      'Emulator: a separate `msnp-probe serve --profile escargot --delay 50` process.',
    '',
  );
  out.push('| program | connections | median ms | min ms | vs floor (median) | every run, ms |');
  out.push('|---|---|--:|--:|--:|---|');
  for (const row of rows) {
    const m = median(row.samples);
    const failed = row.failures.length ? ` (${row.failures.length} failed: ${row.failures[0]})` : '';
    const every = row.samples.map(ms).join(', ');
    out.push(
      `| ${row.variant.label} | ${row.variant.note ?? ''} | ${ms(m)} | ${ms(min(row.samples))} | ` +
        `${fixed(m / floor)}x | ${every}${failed} |`,
    );
  }
  out.push('');
  const minRatio = fixed(min(get('probe').samples) / floorMin);
  const minRatioNoOffer = fixed(min(get('probeNoOffer').samples) / floorMin);
  out.push(
    `- msnp-probe / floor: **${fixed(ratio)}x** with the offer, ${fixed(ratioNoOffer)}x without ` +
      `(min/min: ${minRatio}x, ${minRatioNoOffer}x).`,
  );
  out.push(
    `- sequential / msnp-probe: **${fixed(sequential / probe)}x** ` +
      '(msnp-probe is that many times faster than the one-at-a-time script).',
  );
  // Fixed costs show best in the minima: the medians of separate programs are too noisy to subtract.
  const startupMin = min(get('startup').samples);
  const versionMin = min(get('version').samples);
  const probeMin = min(get('probe').samples);
  const libraryMin = min(get('library').samples);
  out.push(
    `- Where msnp-probe's time goes (minima): Node start-up ${ms(startupMin)} ms, ` +
      `loading msnp-probe's modules ${ms(versionMin - startupMin)} ms (\`--version\` minus \`node -e 0\`), ` +
      `probing and exiting ${ms(probeMin - versionMin)} ms; ` +
      `the floor spends ${ms(floorMin - startupMin)} ms after start-up, ` +
      `\`probe()\` without the CLI ${ms(libraryMin - startupMin)} ms.`,
  );
  const otherCpu = other === null ? 'n/a' : `${ms(other * 100)}% of one core`;
  out.push(
    `- Noise: processes outside this benchmark used ${otherCpu} on average during case 1 ` +
      '(from /proc/stat; 200% = both cores).',
  );
  out.push('');
  summary.push(
    `| 1. one target, 50 ms latency: msnp-probe within ${TARGET_RATIO}x of the floor | ` +
      `${fixed(ratio)}x (median ${ms(probe)} ms vs ${ms(floor)} ms); ${fixed(ratioNoOffer)}x with --no-offer | ` +
      `${verdict(ratio <= TARGET_RATIO)} |`,
  );
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Case 2: throughput and memory

interface EmulatorStats {
  connections: number;
  dropped: number;
  userMs: number;
  systemMs: number;
  maxRssKiB: number;
}

interface ScanRun {
  label: string;
  program: 'msnp-probe' | 'raw';
  targets: number;
  versions: number;
  offer: boolean;
  global: number | null;
  result: RunResult;
  lines: number;
  probes: number;
  acceptedProbes: number;
  /** Non-accepted outcomes by status (or errno). */
  bad: Map<string, number>;
  connections: number;
  dropped: number;
  emulatorCpuMs: number;
  /** CPU time used by processes other than the prober, the emulator and this bench, during the run. */
  otherCpuMs: number | null;
}

async function emulatorStats(service: Service): Promise<EmulatorStats> {
  return JSON.parse(await service.request('stats')) as EmulatorStats;
}

/** Tallies one --ndjson line: accepted probes and the statuses of the rest. */
function tally(
  run: { acceptedProbes: number; bad: Map<string, number> },
  line: string,
  full: boolean,
  version: number,
): void {
  const add = (key: string): void => {
    run.bad.set(key, (run.bad.get(key) ?? 0) + 1);
  };
  if (!full) {
    // 100,000 lines: no JSON.parse in the bench (it shares the 2 cores); one version per line.
    if (line.includes(`"accepted":[${version}]`)) run.acceptedProbes++;
    else add(/"status":"([a-z-]+)"/.exec(line)?.[1] ?? 'unparsed');
    return;
  }
  try {
    const t = JSON.parse(line) as {
      probes: { status: string; errno?: string }[];
      offer: { status: string; errno?: string } | null;
    };
    for (const p of t.offer ? [...t.probes, t.offer] : t.probes) {
      if (p.status === 'accepted') run.acceptedProbes++;
      else add(p.errno ? `${p.status} ${p.errno}` : p.status);
    }
  } catch {
    add('unparsable line');
  }
}

interface ScanSpec {
  label: string;
  program?: 'msnp-probe' | 'raw';
  targets: number;
  /** `2-21` or `8`. */
  versions: string;
  offer: boolean;
  global: number | null;
  stdin: string | Iterable<string>;
  full: boolean;
  timeoutMs: number;
}

async function scanRun(emulator: Service, spec: ScanSpec): Promise<ScanRun> {
  const [first, last] = spec.versions.split('-').map(Number) as [number, number?];
  const versionCount = (last ?? first) - first + 1;
  const program = spec.program ?? 'msnp-probe';
  let args: string[];
  if (program === 'raw') {
    args = ['-e', RAW_CLIENT_SCRIPT, String(first), String(last ?? first), String(spec.global ?? DEFAULT_GLOBAL)];
  } else {
    // One thread, as in every earlier run of this case; case 3 measures --workers.
    args = [BIN, '--targets', '-', '--ndjson', '--no-progress', '--workers', '1', '-r', spec.versions, '-c', '20'];
    if (!spec.offer) args.push('--no-offer');
    if (spec.global !== null) args.push('--global-concurrency', String(spec.global));
  }
  const before = await emulatorStats(emulator);
  const busyBefore = machineBusyMs();
  const benchBefore = process.cpuUsage();
  const run = { acceptedProbes: 0, bad: new Map<string, number>() };
  let rawOk = 0;
  const result = await runNode(args, {
    stdin: spec.stdin,
    usage: true,
    timeoutMs: Math.max(5_000, Math.min(spec.timeoutMs, remainingMs() - 15_000)),
    onLine: (line) => {
      if (program === 'raw') rawOk = Number(/^ok (\d+)\//.exec(line)?.[1] ?? 0);
      else tally(run, line, spec.full, first);
    },
  });
  const benchCpu = process.cpuUsage(benchBefore);
  const busyAfter = machineBusyMs();
  const after = await emulatorStats(emulator);
  const emulatorCpuMs = after.userMs + after.systemMs - before.userMs - before.systemMs;
  const proberCpuMs = result.usage ? result.usage.userMs + result.usage.systemMs : NaN;
  const otherCpuMs =
    busyBefore === null || busyAfter === null
      ? null
      : busyAfter - busyBefore - proberCpuMs - emulatorCpuMs - (benchCpu.user + benchCpu.system) / 1000;
  let lines = result.stdoutLines;
  let probes = lines * (versionCount + (spec.offer ? 1 : 0));
  if (program === 'raw') {
    run.acceptedProbes = rawOk;
    lines = rawOk === spec.targets * versionCount ? spec.targets : 0;
    probes = spec.targets * versionCount;
    if (rawOk !== probes) run.bad.set('not answered', probes - rawOk);
  }
  const out: ScanRun = {
    label: spec.label,
    program,
    targets: spec.targets,
    versions: versionCount,
    offer: spec.offer,
    global: spec.global,
    result,
    lines,
    probes,
    ...run,
    connections: after.connections - before.connections,
    dropped: after.dropped - before.dropped,
    emulatorCpuMs,
    otherCpuMs,
  };
  log(
    `case 2: ${spec.label}, global ${spec.global ?? 'default'}: ` +
      `${int(probes)} probes in ${ms(result.wallMs)} ms = ${int(rate(out))}/s, ` +
      `peak RSS ${fixed(mb(result.usage?.maxRssKiB), 1)} MB${result.code !== 0 ? ` (${describeFailure(result)})` : ''}`,
  );
  return out;
}

const rate = (r: ScanRun): number => r.probes / (r.result.wallMs / 1000);
const complete = (r: ScanRun): boolean =>
  r.result.code === 0 && !r.result.timedOut && r.lines === r.targets && r.bad.size === 0 && r.dropped === 0;

/** The streamed list, generated as it is read: 1,000 lines per chunk, round-robin over the ports. */
function* streamedList(count: number, ports: number[]): Generator<string> {
  const per = 1000;
  for (let i = 0; i < count; i += per) {
    let chunk = '';
    for (let j = i; j < Math.min(count, i + per); j++) chunk += `127.0.0.1:${ports[j % ports.length]}\n`;
    yield chunk;
  }
}

function scanRow(r: ScanRun): string {
  const wallS = r.result.wallMs / 1000;
  const proberCpu = r.result.usage ? r.result.usage.userMs + r.result.usage.systemMs : NaN;
  const bad = [...r.bad].map(([k, n]) => `${n} ${k}`).join(', ');
  const outcome = complete(r)
    ? 'all accepted'
    : [
        r.lines !== r.targets || r.result.code !== 0
          ? `${int(r.lines)}/${int(r.targets)} targets, ${describeFailure(r.result)}`
          : '',
        bad,
        r.dropped ? `${r.dropped} dropped by emulator` : '',
      ]
        .filter(Boolean)
        .join('; ');
  const warning = r.result.stderr.trim().split('\n')[0]?.trim() ?? '';
  const stderrNote = warning === '' ? '' : `; stderr: "${warning.slice(0, 110).replace(/\|/g, '/')}"`;
  const pct = (cpuMs: number | null): string =>
    cpuMs === null ? 'n/a' : `${ms(Math.max(0, cpuMs / r.result.wallMs) * 100)}%`;
  const name = r.program === 'raw' ? `${r.label} *(reference)*` : r.label;
  const global = r.global ?? `${DEFAULT_GLOBAL} (default)`;
  const bold = r.program === 'raw' ? '' : '**';
  const rss = fixed(mb(r.result.usage?.maxRssKiB), 1);
  return (
    `| ${name} | ${int(r.targets)} | ${r.versions}${r.offer ? ' + offer' : ''} | ${global} | ` +
    `${int(r.probes)} | ${fixed(wallS)} | ` +
    `**${int(rate(r))}** | ${bold}${rss}${bold} | ${pct(proberCpu)} | ${ms((proberCpu * 1000) / r.probes)} µs | ` +
    `${pct(r.emulatorCpuMs)} | ${pct(r.otherCpuMs)} | ${int(r.connections)} | ${outcome}${stderrNote} |`
  );
}

async function case2(): Promise<string> {
  log(`case 2: starting ${SERVERS} emulated servers in one child process`);
  const emulator = await startNodeService([EMULATORS, String(SERVERS), 'escargot', '0'], /^ready /, 60_000);
  const ports = (JSON.parse(emulator.readyLine.slice('ready '.length)) as { ports: number[] }).ports;
  const list = ports.map((p) => `127.0.0.1:${p}\n`).join('');
  const runs: ScanRun[] = [];
  const skipped: string[] = [];
  const twBefore = timeWaitCount();
  let emulatorRss = NaN;
  const many = (global: number | null, extra: Partial<ScanSpec> = {}): ScanSpec => ({
    label: `${int(SERVERS)} targets x MSNP2-21`,
    targets: SERVERS,
    versions: '2-21',
    offer: false,
    global,
    stdin: list,
    full: true,
    timeoutMs: 60_000,
    ...extra,
  });
  /** Runs spec unless the time budget is nearly spent (a skipped run is named in the output). */
  const attempt = async (spec: ScanSpec, needsMs: number): Promise<ScanRun | null> => {
    if (remainingMs() < needsMs) {
      skipped.push(
        `${spec.label} (--global-concurrency ${spec.global ?? 'default'}): ` +
          "skipped, the bench's time budget was nearly spent",
      );
      return null;
    }
    const r = await scanRun(emulator, spec);
    runs.push(r);
    return r;
  };
  try {
    // Warm-up, not reported: the emulator's first connection on each port and both JITs are slower.
    await scanRun(emulator, { ...many(null), label: 'warm-up (not reported)', versions: '2-6' });
    const sweep: ScanRun[] = [];
    for (const global of [null, 128, 256, 512]) {
      const r = await attempt(many(global), 60_000);
      if (r) sweep.push(r);
    }
    const best = sweep.reduce<ScanRun | null>(
      (a, b) => (a === null || (complete(b) && rate(b) > rate(a)) ? b : a),
      null,
    );
    // The best setting and the default again, so neither number is one lucky sample.
    if (best && best.global !== null)
      await attempt(many(best.global, { label: `${int(SERVERS)} targets x MSNP2-21, again` }), 60_000);
    await attempt(many(null, { label: `${int(SERVERS)} targets x MSNP2-21, again` }), 60_000);
    await attempt(many(null, { label: `${int(SERVERS)} targets x MSNP2-21 + offer`, offer: true }), 60_000);
    await attempt(many(null, { label: 'plain `node -e` client, same probes', program: 'raw' }), 60_000);
    await attempt(
      {
        label: `${int(STREAMED)} targets streamed x MSNP8`,
        targets: STREAMED,
        versions: '8',
        offer: false,
        global: null,
        stdin: streamedList(STREAMED, ports),
        full: false,
        timeoutMs: 170_000,
      },
      40_000,
    );
    emulatorRss = mb((await emulatorStats(emulator)).maxRssKiB);
  } finally {
    await emulator.stop();
  }
  const twAfter = timeWaitCount();

  const out: string[] = [];
  out.push(`### Case 2: throughput and memory, ${int(SERVERS)} emulated servers in one process, no injected delay`, '');
  out.push(
    'Prober: `msnp-probe --targets - --ndjson --no-progress --workers 1 -c 20 -r RANGE [--no-offer] ' +
      '[--global-concurrency G]`, the target list on stdin, ' +
      'stdout counted line by line and discarded. ' +
      'probes/s = probes / wall time of the prober process (its start-up included). ' +
      "Peak RSS = the prober's own high-water mark, /proc/self/status VmHWM (not getrusage's maxRSS, " +
      'which a Linux child inherits from the process that spawned it; 1 MB = 10^6 bytes). ' +
      'CPU = CPU time / wall time (100% = one core of the 2); ' +
      "CPU per probe = the prober's CPU time / probes (start-up included, less sensitive to noise than wall time); " +
      '"other CPU" = what processes outside this benchmark used meanwhile (from /proc/stat): the noise.',
    '',
  );
  out.push(
    '| run | targets | versions | --global-concurrency | probes | wall s | probes/s | peak RSS MB | prober CPU | ' +
      'prober CPU per probe | emulator CPU | other CPU | connections seen by emulator | outcome |',
  );
  out.push('|---|--:|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|');
  for (const r of runs) out.push(scanRow(r));
  out.push('');
  for (const s of skipped) out.push(`- ${s}`);
  out.push(
    `- Emulator process peak RSS: ${fixed(emulatorRss, 1)} MB. ` +
      `Sockets in TIME_WAIT on the machine: ${twBefore ?? 'n/a'} before case 2, ${twAfter ?? 'n/a'} after ` +
      `(ephemeral ports ${ephemeralRange()}; ` +
      `a client port is reused toward each of the ${int(SERVERS)} server ports, ` +
      'and msnp-probe closes first and gracefully).',
    '',
  );

  const probers = runs.filter((r) => r.program === 'msnp-probe' && r.targets === SERVERS);
  const plain = probers.filter((r) => !r.offer);
  const best = plain.reduce<ScanRun | null>((a, b) => (a === null || (complete(b) && rate(b) > rate(a)) ? b : a), null);
  const defaults = plain.filter((r) => r.global === null);
  const bestDefault = defaults.reduce<ScanRun | null>((a, b) => (a === null || rate(b) > rate(a) ? b : a), null);
  const streamed =
    runs.find((r) => r.targets === STREAMED && r.program === 'msnp-probe' && STREAMED !== SERVERS) ?? null;
  const rssOf = (r: ScanRun | null): number => mb(r?.result.usage?.maxRssKiB);
  const rssDefault = Math.max(...probers.filter((r) => r.global === null).map(rssOf));
  const rssAll = Math.max(...probers.map(rssOf));
  if (best) {
    const bestGlobal = best.global ?? DEFAULT_GLOBAL;
    const bestPassed = rate(best) >= TARGET_PROBES_PER_S && complete(best);
    summary.push(
      `| 2. ${int(SERVERS)} targets x 20 versions: at least ${int(TARGET_PROBES_PER_S)} probes/s | ` +
        `best ${int(rate(best))}/s (--global-concurrency ${bestGlobal}, peak RSS ${fixed(rssOf(best), 1)} MB); ` +
        `default settings ${bestDefault ? int(rate(bestDefault)) : 'n/a'}/s | ${verdict(bestPassed)} |`,
    );
  }
  const worstGlobal = probers.find((r) => rssOf(r) === rssAll)?.global ?? DEFAULT_GLOBAL;
  const worstNote = rssAll < TARGET_RSS_MB ? '' : `, **FAIL** at --global-concurrency ${worstGlobal}`;
  summary.push(
    `| 2. peak RSS under ${TARGET_RSS_MB} MB, ${int(SERVERS)} targets | ` +
      `${fixed(rssDefault, 1)} MB at the default --global-concurrency ${DEFAULT_GLOBAL}; ` +
      `${fixed(rssAll, 1)} MB the highest of all settings tried | ` +
      `${verdict(rssDefault < TARGET_RSS_MB)} (default)${worstNote} |`,
  );
  const streamedRow = `| 2. peak RSS under ${TARGET_RSS_MB} MB, ${int(STREAMED)} targets from a stream | `;
  summary.push(
    streamed
      ? streamedRow +
          `${fixed(rssOf(streamed), 1)} MB at the default --global-concurrency ` +
          `(${int(rate(streamed))} probes/s${complete(streamed) ? '' : ', INCOMPLETE'}) | ` +
          `${verdict(rssOf(streamed) < TARGET_RSS_MB && complete(streamed))} |`
      : `${streamedRow}not measured | **FAIL** |`,
  );
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------

const summary: string[] = [];

async function main(): Promise<void> {
  const hard = setTimeout(() => {
    log(`over the ${HARD_LIMIT_MS / 1000} s limit: stopping`);
    cleanUp();
    process.exit(1);
  }, HARD_LIMIT_MS);
  hard.unref();
  const started = Date.now();
  const cpu = cpus();
  const machine = [
    `- Date: ${new Date().toISOString()}`,
    `- CPU: ${cpu[0]?.model ?? 'unknown'} x ${cpu.length} (os.cpus())`,
    `- Memory: ${fixed(totalmem() / 2 ** 30, 1)} GiB; OS: ${platform()} ${release()} ${arch()}`,
    `- Node ${process.version}; open-file limit ${openFileLimit()}; load average at start ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
    '- Command: `npm run bench` (= `tsc -p . && node dist/bench/bench.js`)',
  ];
  const sections: string[] = [];
  // Case 3 first: on a loaded machine the time budget runs out, and its ratios are the headline.
  if (runCase('3'))
    sections.push(
      await referenceCase({
        rounds: ROUNDS,
        big: Boolean(flags.big),
        many: MANY,
        manyRounds: MANY_ROUNDS,
        log,
        remainingMs,
      }),
    );
  if (runCase('1')) sections.push(await case1());
  if (runCase('2')) sections.push(await case2());
  const out = [
    '## msnp-probe benchmark',
    '',
    ...machine,
    '',
    '| benchmark target | measured | result |',
    '|---|---|---|',
    ...summary,
    '',
    ...sections,
    `Whole bench: ${fixed((Date.now() - started) / 1000, 1)} s.`,
    '',
  ];
  process.stdout.write(out.join('\n'));
}

process.on('exit', cleanUp);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    cleanUp();
    process.exit(130);
  });
}
main().catch((err: unknown) => {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  cleanUp();
  process.exit(1);
});
