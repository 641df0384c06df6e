import { open, type FileHandle } from 'node:fs/promises';
import type { WriteStream } from 'node:fs';
import { escapeText } from '../../core/escape.js';
import type { Sink } from './batched-writer.js';
import { UsageError, type OutputFile } from '../options.js';

/** An opened `-o FORMAT:FILE`. */
export interface OpenedFile extends OutputFile {
  sink: Sink;
  /** The errno code of the first failed write, or null. */
  readonly error: string | null;
  /** Ends the file; resolves once it is written and closed (or has failed). */
  close(): Promise<void>;
}

/**
 * Opens every output file before any probe: a file that cannot be created is a usage error, found
 * before the run rather than after it. `onError` hears of the first failed write to each.
 */
export async function openOutputFiles(
  files: readonly OutputFile[],
  onError: (file: string, code: string) => void,
): Promise<OpenedFile[]> {
  const opened: OpenedFile[] = [];
  for (const output of files) {
    let handle: FileHandle;
    try {
      handle = await open(output.file, 'w');
    } catch (err) {
      await Promise.all(opened.map((o) => o.close()));
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new UsageError(`--output: cannot write '${escapeText(output.file)}': ${code}`);
    }
    opened.push(fileOutput(output, handle.createWriteStream(), onError));
  }
  return opened;
}

function fileOutput(
  output: OutputFile,
  stream: WriteStream,
  onError: (file: string, code: string) => void,
): OpenedFile {
  let error: string | null = null;
  const closed = new Promise<void>((resolve) => stream.once('close', resolve));
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (error !== null) return;
    error = err.code ?? 'EIO';
    onError(output.file, error);
  });
  return {
    ...output,
    sink: stream,
    get error() {
      return error;
    },
    close: () => {
      if (!stream.destroyed) stream.end();
      return closed;
    },
  };
}
