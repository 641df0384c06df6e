// The plain-Node reference prober: msnp-probe's work with `net` only, to show the runtime's limit.
//
//   node bench/reference-prober.mjs FIRST LAST PER_TARGET GLOBAL OFFER TIMEOUT_MS LINGER_MS < targets
//
// Same work and output as bench/c/prober.c: per `host:port` line on stdin (read as needed), one
// connection per version FIRST..LAST sending `VER 1 MSNPn CVR0` and, with OFFER=1, one offering
// every version highest first; the first CRLF line; then our FIN and up to LINGER_MS for the
// server's; at most PER_TARGET connections per target and GLOBAL in all, each bounded by TIMEOUT_MS.
// One NDJSON line per target.
import net from 'node:net';

const [first, last, perTarget, global, offer, timeoutMs, lingerMs] = process.argv.slice(2, 9).map(Number);
const offerLine = `VER 1 ${Array.from({ length: last - first + 1 }, (_, i) => `MSNP${last - i}`).join(' ')} CVR0\r\n`;
const count = last - first + 1 + (offer ? 1 : 0);
const active = [];
const queued = [];
let inflight = 0;
let inputDone = false;
let pending = '';
let out = '';

process.stdin.setEncoding('latin1');
process.stdin.on('data', (chunk) => {
  const lines = (pending + chunk).split('\n');
  pending = lines.pop();
  for (const line of lines) if (line) queued.push(line);
  // Read no further ahead than needed: the list may be longer than memory should hold.
  if (queued.length > 4096) process.stdin.pause();
  fill();
});
process.stdin.on('end', () => {
  if (pending) queued.push(pending);
  inputDone = true;
  fill();
});

function flush() {
  if (out) process.stdout.write(out);
  out = '';
}

function finish(t) {
  active.splice(active.indexOf(t), 1);
  out += `${JSON.stringify({ target: t.name, probes: t.probes, offer: offer ? t.offer : null })}\n`;
  if (out.length > 65536) flush();
}

function settle(t, version, status, reply) {
  if (version === 0) t.offer = { status, reply };
  else t.probes[version - first] = { version, status, reply };
  inflight--;
  t.inflight--;
  if (++t.done === count) finish(t);
  fill();
}

function connect(t, version) {
  const s = net.connect(t.port, t.host);
  let buf = '';
  let settled = false;
  const settleOnce = (status, reply) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    settle(t, version, status, reply);
  };
  const timer = setTimeout(() => {
    s.destroy();
    settleOnce('timeout', '');
  }, timeoutMs);
  s.setEncoding('latin1');
  s.on('connect', () => s.write(version ? `VER 1 MSNP${version} CVR0\r\n` : offerLine));
  s.on('data', (d) => {
    if (settled) return;
    buf += d;
    const i = buf.indexOf('\r\n');
    if (i < 0 && buf.length < 256) return;
    const line = i < 0 ? buf : buf.slice(0, i);
    const m = /^VER \S+ (\S+)$/.exec(line);
    const ok = m !== null && m[1] === `MSNP${version || last}`;
    // Keep the slot until the close ends, as msnp-probe does: our FIN, then the server's or the cap.
    clearTimeout(timer);
    const cap = setTimeout(() => s.destroy(), lingerMs);
    s.on('close', () => {
      clearTimeout(cap);
      settleOnce(ok ? 'accepted' : 'rejected', line);
    });
    s.end();
  });
  s.on('end', () => {
    if (!settled && buf.indexOf('\r\n') < 0) {
      s.destroy();
      settleOnce('closed', buf);
    }
  });
  s.on('error', (e) => {
    s.destroy();
    settleOnce('error', e.code ?? e.message);
  });
}

function fill() {
  while (inflight < global) {
    let t = active.find((a) => a.next < count && a.inflight < perTarget);
    if (!t) {
      const line = queued.shift();
      if (line === undefined) {
        if (!inputDone) process.stdin.resume();
        else if (inflight === 0 && active.length === 0) flush();
        return;
      }
      const colon = line.lastIndexOf(':');
      const port = Number(line.slice(colon + 1));
      t = { name: line, host: line.slice(0, colon), port, next: 0, inflight: 0, done: 0 };
      t.probes = [];
      t.offer = null;
      active.push(t);
      if (queued.length < 1024 && !inputDone) process.stdin.resume();
    }
    const job = t.next++;
    t.inflight++;
    inflight++;
    connect(t, job < last - first + 1 ? first + job : 0);
  }
}
