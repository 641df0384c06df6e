/**
 * The two comparison programs of case 1, as `node -e` sources: what someone would write without a
 * prober. Both take HOST and PORT as arguments (`node -e SCRIPT HOST PORT`: argv[1], argv[2]).
 */

/** The floor: one connection, one VER, one reply line, exit. One round trip plus Node's start-up. */
export const FLOOR_SCRIPT =
  `
const s = require('net').connect(+process.argv[2], process.argv[1], () => s.write('VER 1 MSNP21 CVR0\\r\\n'));
let b = '';
s.on('data', (d) => { b += d; const i = b.indexOf('\\r\\n'); ` +
  `if (i >= 0) { console.log(b.slice(0, i)); s.destroy(); } });
s.on('error', (e) => { console.error(e.message); process.exitCode = 1; });
`;

/** The ten-line script: MSNP2..MSNP21, one connection at a time, each closed before the next. */
export const SEQUENTIAL_SCRIPT = `
const net = require('net');
const ver = (v) => new Promise((resolve) => {
  const s = net.connect(+process.argv[2], process.argv[1], () => s.write('VER 1 MSNP' + v + ' CVR0\\r\\n'));
  let b = '';
  s.on('data', (d) => { b += d; const i = b.indexOf('\\r\\n'); if (i >= 0) { s.end(); resolve(b.slice(0, i)); } });
  s.on('error', (e) => resolve('error ' + e.message));
  s.on('end', () => resolve(b));
});
(async () => { for (let v = 2; v <= 21; v++) console.log('MSNP' + v + ': ' + (await ver(v))); })();
`;

/**
 * A reference for case 2, not a prober: the least a Node program can do per probe. Reads
 * `127.0.0.1:PORT` lines from stdin, then for each port and each version FIRST..LAST connects,
 * sends VER, reads one line and ends the socket, CONCURRENCY connections in flight
 * (`node -e SCRIPT FIRST LAST CONCURRENCY`). Prints `ok N/M` at the end.
 */
export const RAW_CLIENT_SCRIPT =
  `
const net = require('net');
const [first, last, width] = [+process.argv[1], +process.argv[2], +process.argv[3]];
let input = '';
process.stdin.setEncoding('latin1').on('data', (d) => (input += d)).on('end', () => {
  const jobs = [];
  for (const line of input.split('\\n')) if (line) ` +
  `for (let v = first; v <= last; v++) jobs.push([+line.split(':')[1], v]);
  let next = 0, closed = 0, ok = 0;
  const one = () => {
    const job = jobs[next++];
    if (!job) return;
    const s = net.connect(job[0], '127.0.0.1', () => s.write('VER 1 MSNP' + job[1] + ' CVR0\\r\\n'));
    let b = '';
    s.on('data', (d) => { b += d; if (b.includes('\\r\\n')) { ok++; s.end(); } });
    s.on('error', () => undefined);
    s.on('close', () => { if (++closed === jobs.length) console.log('ok ' + ok + '/' + jobs.length); else one(); });
  };
  for (let i = 0; i < width; i++) one();
});
`;
