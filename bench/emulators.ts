/**
 * The emulator side of the throughput case, in its own process: `node emulators.js COUNT PROFILE`
 * starts COUNT emulated servers on 127.0.0.1 (ephemeral ports, no injected delay), prints
 * `ready {"ports":[...]}` and then answers each `stats` line on stdin with one JSON line (its
 * connection counters, CPU time and peak RSS). It stops when stdin ends or on SIGTERM.
 */
import { createInterface } from 'node:readline';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { peakRssBytes } from '../test/peak-rss.js';

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? '1000');
  const profile = process.argv[3] ?? 'escargot';
  const delayMs = Number(process.argv[4] ?? '0');
  const emulators: Emulator[] = [];
  for (let i = 0; i < count; i++) {
    emulators.push(await startEmulator({ profile, port: 0, delayMs, maxConnections: 100_000, host: '127.0.0.1' }));
  }
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await Promise.all(emulators.map((e) => e.close()));
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  process.stdout.write(`ready ${JSON.stringify({ ports: emulators.map((e) => e.port) })}\n`);
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() !== 'stats') return;
    const sum = { connections: 0, dropped: 0, peakActive: 0, active: 0 };
    for (const e of emulators) {
      const s = e.stats();
      sum.connections += s.connections;
      sum.dropped += s.dropped;
      sum.active += s.active;
      sum.peakActive = Math.max(sum.peakActive, s.peakActive);
    }
    const u = process.resourceUsage();
    const stats = {
      ...sum,
      userMs: u.userCPUTime / 1000,
      systemMs: u.systemCPUTime / 1000,
      maxRssKiB: Math.round(peakRssBytes() / 1024),
    };
    process.stdout.write(`${JSON.stringify(stats)}\n`);
  });
  lines.on('close', () => void stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`emulators: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
