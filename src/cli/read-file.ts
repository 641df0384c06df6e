import { open } from 'node:fs/promises';
import { UsageError } from './options.js';

/**
 * Reads a small text file a flag names (a config, a report), refusing a directory or anything
 * over `maxBytes` before reading it: a usage error naming the flag, never a stack.
 */
export async function readFlagFile(flag: string, file: string, maxBytes: number): Promise<string> {
  try {
    const handle = await open(file, 'r');
    try {
      const stat = await handle.stat();
      if (stat.isDirectory()) throw Object.assign(new Error('a directory'), { code: 'EISDIR' });
      if (stat.size > maxBytes) throw Object.assign(new Error('too large'), { code: 'EFBIG' });
      return await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw new UsageError(`--${flag}: cannot read '${file}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}
