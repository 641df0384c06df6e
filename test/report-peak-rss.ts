/** Preloaded with `node --import` into a measured child: reports its peak RSS (KiB) on stderr as it exits. */
import { peakRssBytes } from './peak-rss.js';

process.on('exit', () => process.stderr.write(`\nmaxrss=${Math.round(peakRssBytes() / 1024)}\n`));
