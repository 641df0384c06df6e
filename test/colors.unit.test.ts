import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MatrixPrinter } from '../src/report/render/matrix.js';
import { renderTarget } from '../src/report/render/text.js';
import type { TargetReport, VersionProbe } from '../src/core/model.js';

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
  const report: TargetReport = {
    host: '127.0.0.1',
    port: 1863,
    address: '127.0.0.1',
    family: 4,
    probes,
    accepted: [8],
    preferred: null,
    offer: null,
    answered: true,
    elapsedMs: 1,
    transport: 'tcp',
  };
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
