import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MATRIX_LEGEND, MATRIX_SYMBOLS, MatrixPrinter, matrixLegend } from '../src/report/render/matrix.js';
import { displayWidth } from '../src/core/fit.js';
import { STATUSES } from '../src/codec/outcome.js';
import type { TargetReport, VersionProbe } from '../src/core/model.js';
import type { FingerprintReport } from '../src/probe/fingerprint/probe.js';

/** A report with one probe per status on versions 2, 3, ...; `skip` leaves a version unprobed. */
function report(host: string, versions: readonly number[], skip: readonly number[] = []): TargetReport {
  const probes = versions
    .filter((v) => !skip.includes(v))
    .map((version, i) => ({
      version,
      status: STATUSES[i % STATUSES.length],
      reply: null,
      elapsedMs: 1,
      bytesReceived: 0,
    })) as unknown as VersionProbe[];
  return {
    host,
    port: 1863,
    address: '127.0.0.1',
    family: 4,
    probes,
    accepted: [8],
    preferred: 8,
    offer: null,
    answered: true,
    elapsedMs: 1,
    transport: 'tcp',
  };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('the matrix legend', () => {
  test('every symbol a row shows is in the legend', () => {
    const versions = range(2, 2 + STATUSES.length);
    // The last version is left unprobed: its cell shows the not-probed symbol.
    const r = report('127.0.0.1', versions, [versions.at(-1) as number]);
    const row = new MatrixPrinter(versions, false).row(r);
    // Natural layout: the target takes 30 columns, each version 3.
    const shown = versions.map((_, i) => row[30 + i * 3] as string);
    assert.equal(new Set(shown).size, STATUSES.length + 1, `every status and not-probed: ${shown.join('')}`);
    const entries = MATRIX_LEGEND.replace(/^legend: /, '').split(', ');
    for (const mark of shown) {
      const label = mark === ' ' ? 'blank' : mark;
      assert.ok(
        entries.some((e) => e.startsWith(`${label} `)),
        `'${label}' is in the legend: ${MATRIX_LEGEND}`,
      );
    }
  });
  test('every legend entry is a symbol a row can show, each once', () => {
    const marks = MATRIX_SYMBOLS.map((s) => s.mark);
    assert.equal(new Set(marks).size, marks.length);
    for (const s of STATUSES)
      assert.ok(
        MATRIX_SYMBOLS.some((m) => m.meaning === s),
        s,
      );
  });
  test('wrapped for a terminal, one line without', () => {
    assert.equal(matrixLegend(null), MATRIX_LEGEND);
    const lines = matrixLegend(60).split('\n');
    assert.ok(lines.length > 1);
    for (const line of lines) assert.ok(displayWidth(line) <= 60, line);
    assert.equal(lines.join(' ').replace(/ +/g, ' '), MATRIX_LEGEND);
  });
});

describe('the matrix fits the width', () => {
  const fingerprint = {
    skipped: false,
    verdict: { kind: 'match', ids: ['x'], text: 'x' },
    matches: [{ label: 'Escargot (2020-04-11 or later)' }],
    traits: {},
  } as unknown as FingerprintReport;
  const cases: [number, number, boolean][] = [];
  for (const width of [40, 60, 80, 100])
    for (const count of [5, 20, 60, 98]) for (const fp of [false, true]) cases.push([width, count, fp]);
  for (const [width, count, fp] of cases) {
    test(`${width} columns, ${count} versions${fp ? ', --fingerprint' : ''}`, () => {
      const versions = range(2, count + 1);
      const printer = new MatrixPrinter(versions, true, fp, width);
      const long = report(`a-long-host-name-${'x'.repeat(40)}.invalid`, versions);
      if (fp) long.fingerprint = fingerprint;
      const text = printer.header() + printer.row(long) + printer.row(report('127.0.0.1', versions));
      for (const line of text.split('\n')) assert.ok(displayWidth(line) <= width, `${displayWidth(line)}: ${line}`);
      assert.match(text, /:1863 /, 'the port survives');
      // Every version has its mark, each painted in its status colour.
      const marks = printer.row(report('127.0.0.1', versions)).match(/\x1b\[3\dm.\x1b\[39m/g) ?? [];
      assert.equal(marks.length, count, text);
    });
  }
  test('no width: the natural matrix, as wide as it is', () => {
    const versions = range(2, 21);
    const wide = new MatrixPrinter(versions, false, false, null).header();
    assert.equal(wide, new MatrixPrinter(versions, false).header());
    assert.equal(displayWidth(wide.trimEnd()), 30 + 20 * 3 + 'summary'.length);
  });
});
