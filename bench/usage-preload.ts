/**
 * Preloaded into a measured child with `node --import <this file>`: when the process exits it
 * writes its own peak RSS and CPU time to the file named by BENCH_USAGE_FILE. Nothing else: no
 * timers, no handles, so it neither delays the exit nor changes what the child does.
 */
import { writeFileSync } from 'node:fs';
import { peakRssBytes } from '../test/peak-rss.js';

const file = process.env['BENCH_USAGE_FILE'];
if (file) {
  delete process.env['BENCH_USAGE_FILE'];
  process.on('exit', () => {
    const u = process.resourceUsage();
    writeFileSync(
      file,
      JSON.stringify({
        maxRssKiB: Math.round(peakRssBytes() / 1024),
        userMs: u.userCPUTime / 1000,
        systemMs: u.systemCPUTime / 1000,
      }),
    );
  });
}
