// Summarises a `node --cpu-prof` profile by self time: the top functions, and totals by category
// (our code / dependencies / promises / timers / streams+net / GC / native+kernel / idle / other).
//
//   node bench/cpu-profile-summary.mjs FILE.cpuprofile [TOP]
//
// Self time per node = samples whose top frame is that node x their time deltas. Profile the
// unbundled CLI (dist/src/cli/process.js) so that our code and the dependencies have their own URLs.
import { readFileSync } from 'node:fs';

const [file, topText] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node bench/cpu-profile-summary.mjs FILE.cpuprofile [TOP]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map();
for (const [i, id] of profile.samples.entries()) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));

function category({ functionName: f, url }) {
  if (f === '(garbage collector)') return 'GC';
  if (f === '(idle)') return 'idle (epoll_wait: waiting for the kernel/server)';
  if (f === '(program)') return 'native, outside JS (V8/libuv/syscalls)';
  // Its self time is the connect(2) in the TCPWrap binding: on loopback the kernel runs the whole
  // handshake, the server side included, inside that call.
  if (f === 'internalConnect' || (url === '' && /^(writeBuffer|writeUtf8String|writev|close|shutdown)$/.test(f))) {
    return 'kernel, via syscalls (connect, write, close, shutdown)';
  }
  if (url.includes('/node_modules/')) return 'dependencies';
  if (url.includes('/dist/src/')) return 'our code';
  if (/task_queues|promise|async_hooks|microtask/i.test(url) || /^(processTicksAndRejections|runMicrotasks)$/.test(f)) {
    return 'promises and ticks';
  }
  if (/timers/.test(url)) return 'timers';
  if (/stream|net/.test(url)) return 'streams and net (JS side)';
  if (url === '') return 'native, called from JS (bindings: connect, write, close...)';
  return `other runtime JS (${url
    .replace(/^node:/, '')
    .split('/')
    .slice(0, 2)
    .join('/')})`;
}

const perFunction = new Map();
const perCategory = new Map();
let total = 0;
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  const cf = node.callFrame;
  const where = cf.url ? `${cf.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${cf.lineNumber + 1}` : '(native)';
  const key = `${cf.functionName || '(anonymous)'} ${where}`;
  perFunction.set(key, { us: (perFunction.get(key)?.us ?? 0) + us, cat: category(cf) });
  const c = category(cf);
  perCategory.set(c, (perCategory.get(c) ?? 0) + us);
  total += us;
}
const pct = (us) => `${((100 * us) / total).toFixed(1)}%`;
console.log(`total ${(total / 1000).toFixed(0)} ms sampled\n\nby category (self time):`);
for (const [c, us] of [...perCategory].sort((a, b) => b[1] - a[1])) {
  console.log(`  ${pct(us).padStart(6)}  ${(us / 1000).toFixed(0).padStart(6)} ms  ${c}`);
}
console.log(`\ntop ${topText ?? 25} functions (self time):`);
for (const [k, v] of [...perFunction].sort((a, b) => b[1].us - a[1].us).slice(0, Number(topText ?? 25))) {
  console.log(`  ${pct(v.us).padStart(6)}  ${k}  [${v.cat}]`);
}
