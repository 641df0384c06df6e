import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MatrixPrinter, STATUS_MARKS } from '../src/report/render/matrix.js';
import { renderTarget } from '../src/report/render/text.js';
import type { VersionProbe } from '../src/core/model.js';
import { targetReport } from './fixtures.js';
import { STATUSES, type ProbeStatus } from '../src/codec/outcome.js';
import { STATUS_COLORS } from '../src/report/render/colors.js';
import { renderMatrixSvg } from '../src/report/render/svg.js';

test('the table and the matrix colour each status the same way', () => {
  const probes = [
    {
      version: 8,
      status: 'accepted',
      reply: 'VER 1 MSNP8',
      versions: [8],
      cvr0: false,
      elapsedMs: 1,
      bytesReceived: 11,
    },
    {
      version: 9,
      status: 'rejected',
      reply: 'VER 1 0',
      form: 'zero',
      serverVersions: [],
      elapsedMs: 1,
      bytesReceived: 7,
    },
    {
      version: 10,
      status: 'error',
      reply: '600 1',
      code: 600,
      codeName: null,
      trId: 1,
      busy: true,
      elapsedMs: 1,
      bytesReceived: 5,
    },
    { version: 11, status: 'reset', reply: null, elapsedMs: 1, bytesReceived: 0 },
  ] as VersionProbe[];
  const report = targetReport(probes);
  const row = new MatrixPrinter([8, 9, 10, 11], true).row(report);
  const table = renderTarget(report, { color: true });
  const colours: [string, string, string][] = [
    ['32', '+', 'accepted'],
    ['33', '-', 'rejected'],
    ['35', 'E', 'error 600'],
    ['31', 'R', 'reset'],
  ];
  for (const [code, mark, text] of colours) {
    assert.ok(row.includes(`\x1b[${code}m${mark}`), `matrix ${mark} in colour ${code}`);
    assert.ok(table.includes(`\x1b[${code}m${text}`), `table ${text} in colour ${code}`);
  }
});

test('the table, the matrix and the SVG take every status colour from the one table', () => {
  const ansi = { green: '32', yellow: '33', magenta: '35', red: '31' } as const;
  const extra: Record<ProbeStatus, Record<string, unknown>> = {
    accepted: { reply: 'VER 1 MSNP2', version: 2, versions: [2], cvr0: false },
    rejected: { reply: 'VER 1 0', form: 'zero', serverVersions: [] },
    mismatch: { reply: 'VER 7 MSNP8', reason: 'trid', trId: 7, versions: [8] },
    error: { reply: '600 1', code: 600, codeName: null, trId: 1, busy: true },
    closed: { reply: null, out: null },
    reset: { reply: null },
    timeout: { reply: null, phase: 'reply' },
    refused: { reply: null, errno: 'ECONNREFUSED' },
    unreachable: { reply: null, errno: 'ENETUNREACH', reason: 'network' },
    unexpected: { reply: null, reason: 'text' },
    'http-error': { reply: null, httpStatus: 500 },
    'http-invalid': { reply: null, reason: 'not-http' },
  };
  const probes = STATUSES.map((status, i) => ({
    ...extra[status],
    version: i + 2,
    status,
    elapsedMs: 1,
    bytesReceived: 0,
  })) as VersionProbe[];
  const versions = probes.map((p) => p.version);
  const report = targetReport(probes);
  const row = new MatrixPrinter(versions, true).row(report);
  const table = renderTarget(report, { color: true });
  const svg = renderMatrixSvg([report], { date: new Date(0) });
  for (const status of STATUSES) {
    const colour = STATUS_COLORS[status];
    const code = ansi[colour.terminal];
    assert.ok(row.includes(`\x1b[${code}m${STATUS_MARKS[status]}\x1b[39m`), `matrix ${status} in colour ${code}`);
    assert.match(table, new RegExp(`\\x1b\\[${code}m${status}`), `table ${status} in colour ${code}`);
    const cell = new RegExp(`data-status="${status}"[^>]*>\\n<title>[^<]*</title>\\n<rect [^>]*fill="${colour.fill}"`);
    assert.match(svg, cell, `svg ${status} cell filled ${colour.fill}`);
    assert.ok(svg.includes(`fill="${colour.text}">${STATUS_MARKS[status]}</text>`), `svg ${status} mark`);
  }
});
