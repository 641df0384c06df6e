/**
 * The peak resident set of this process, for memory checks on child processes (tests and bench).
 *
 * Not getrusage's ru_maxrss alone: on Linux, execve keeps the high-water mark of the image it
 * replaces, and a spawned child starts as a fork of its parent, so a child's ru_maxrss is at least
 * its parent's RSS at spawn time (a 300 MB test runner makes a 40 MB child report 290 MB).
 * /proc/self/status VmHWM is the peak of this process image only; elsewhere ru_maxrss is used.
 */
import { readFileSync } from 'node:fs';

export function peakRssBytes(): number {
  try {
    const m = /^VmHWM:\s*(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m?.[1]) return Number(m[1]) * 1024;
  } catch {
    // No procfs (not Linux): fall back below.
  }
  return process.resourceUsage().maxRSS * 1024;
}
