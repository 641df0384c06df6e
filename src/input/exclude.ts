import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { AddressFilter, AddressError, excludeEntries } from './address.js';
import { MAX_EXCLUDE_FILE } from '../core/limits.js';

/** A bad exclude entry or file; `fromFile` says whether --exclude-file (not --exclude) named it. */
export class ExcludeError extends AddressError {
  constructor(
    message: string,
    readonly fromFile: boolean,
  ) {
    super(message);
  }
}

export { MAX_EXCLUDE_FILE } from '../core/limits.js';

/**
 * The filter of `--exclude` values (each comma- or space-separated) and `--exclude-file` lists
 * (one or more entries a line, `#` comments), or null when none is given. Throws ExcludeError
 * naming the bad entry, or the file that cannot be read.
 */
export function buildExclude(values: readonly string[], file: string | null): AddressFilter | null {
  if (values.length === 0 && file === null) return null;
  const filter = new AddressFilter();
  try {
    for (const value of values) for (const entry of excludeEntries(value)) filter.add(entry);
  } catch (err) {
    throw new ExcludeError(err instanceof Error ? err.message : String(err), false);
  }
  if (file !== null) {
    const lines = readExcludeFile(file).split(/\r\n|\r|\n/);
    lines.forEach((line, i) => {
      for (const entry of excludeEntries(line)) {
        try {
          filter.add(entry);
        } catch (err) {
          throw new ExcludeError(`'${file}' line ${i + 1}: ${err instanceof Error ? err.message : String(err)}`, true);
        }
      }
    });
  }
  return filter;
}

function readExcludeFile(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new ExcludeError(`cannot read '${file}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`, true);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new ExcludeError(`'${file}' is not a regular file`, true);
    if (stat.size > MAX_EXCLUDE_FILE) {
      throw new ExcludeError(`'${file}' is larger than ${MAX_EXCLUDE_FILE} bytes`, true);
    }
    const text = readFileSync(fd, 'utf8');
    if (text.includes('\0')) {
      throw new ExcludeError(`'${file}': a NUL byte: binary data, not a list of addresses`, true);
    }
    return text;
  } finally {
    closeSync(fd);
  }
}
