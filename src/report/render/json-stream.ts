import { PACKAGE } from '../../core/version.js';
import { SCHEMA_VERSION, type RunOptions, type TargetDocument } from './json.js';

/** Inside `targets` of a document pretty-printed with two spaces, each target is indented by four. */
const INDENT = '\n    ';

/**
 * Writes the `--json` document piece by piece, in input order, as reports complete: no string ever
 * holds the whole document, and only reports that finished before an earlier one are held back
 * (serialised). The text is `JSON.stringify(document, null, 2)` except that `durationMs` (known
 * only at the end) comes after `targets`, followed by `interrupted` when the run was stopped.
 */
export class JsonDocumentWriter {
  readonly #write: (text: string) => unknown;
  readonly #startedAt: Date;
  readonly #options: RunOptions | undefined;
  /** Reports waiting for an earlier index, and how many more reports their index still owes. */
  readonly #held = new Map<number, { texts: string[]; owed: number }>();
  #next = 0;
  #written = 0;
  #opened = false;
  #ended = false;

  /** `write` may return a promise (back-pressure): `add` and `end` resolve after the last one. */
  constructor(write: (text: string) => unknown, startedAt: Date, options?: RunOptions) {
    this.#write = write;
    this.#startedAt = startedAt;
    this.#options = options;
  }

  /** Targets written so far. */
  get written(): number {
    return this.#written;
  }

  /**
   * One report of the target at `index` (the order it came in). A target probed with `--follow`
   * brings one report more per redirect it followed; its index is complete when all have come.
   */
  add(index: number, doc: TargetDocument): Promise<void> {
    if (this.#ended) return Promise.resolve();
    const group = this.#held.get(index) ?? { texts: [], owed: 1 };
    this.#held.set(index, group);
    group.texts.push(JSON.stringify(doc, null, 2).replaceAll('\n', INDENT));
    group.owed += (doc.redirects ?? []).filter((r) => r.followed).length - 1;
    // Written synchronously, in order, before any wait: a concurrent add() cannot slip in between.
    let wait: unknown;
    for (let ready = this.#held.get(this.#next); ready && ready.owed <= 0; ready = this.#held.get(this.#next)) {
      this.#held.delete(this.#next++);
      for (const text of ready.texts) wait = this.#target(text);
    }
    return Promise.resolve(wait).then(() => undefined);
  }

  /**
   * Closes the document: reports still held (a run stopped before an earlier target finished) are
   * written in input order, then `durationMs`, and `"interrupted": true` when the run was stopped.
   */
  end(durationMs: number, interrupted = false): Promise<void> {
    if (this.#ended) return Promise.resolve();
    this.#ended = true;
    for (const index of [...this.#held.keys()].sort((a, b) => a - b)) {
      for (const text of this.#held.get(index)?.texts ?? []) this.#target(text);
    }
    this.#held.clear();
    this.#open();
    const tail = `${this.#written ? '\n  ]' : ']'},\n  "durationMs": ${Math.round(durationMs)}`;
    return Promise.resolve(this.#write(`${tail}${interrupted ? ',\n  "interrupted": true' : ''}\n}\n`)).then(
      () => undefined,
    );
  }

  #open(): void {
    if (this.#opened) return;
    this.#opened = true;
    const head = {
      schemaVersion: SCHEMA_VERSION,
      tool: { name: PACKAGE.name, version: PACKAGE.version },
      startedAt: this.#startedAt.toISOString(),
      ...(this.#options && Object.keys(this.#options).length > 0 ? { options: this.#options } : {}),
      targets: [],
    };
    // `"targets": []\n}` without its last three characters leaves the array open.
    this.#write(JSON.stringify(head, null, 2).slice(0, -3));
  }

  #target(text: string): unknown {
    this.#open();
    return this.#write(`${this.#written++ ? ',' : ''}${INDENT}${text}`);
  }
}
