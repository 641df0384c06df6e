import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { probe, type TargetReport } from '../src/probe/probe.js';
import { renderMatrixSvg, MAX_SVG_TARGETS } from '../src/report/render/svg.js';
import { STATUSES } from '../src/codec/outcome.js';
import { formatTarget } from '../src/input/target.js';
import { closedPort, range, withEmulator } from './helpers.js';

/** Characters XML 1.0 forbids, and the C1 controls a terminal would act on. */
const FORBIDDEN = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\uFFFE\uFFFF]/;

type Node = Record<string, unknown>;

/** Every element named `name` under `node`, depth first. */
function elements(node: unknown, name: string, out: Node[] = []): Node[] {
  if (Array.isArray(node)) for (const n of node) elements(n, name, out);
  else if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      if (key === name) for (const v of Array.isArray(value) ? value : [value]) out.push(v as Node);
      elements(value, name, out);
    }
  }
  return out;
}

function parseSvg(svg: string): Node {
  assert.equal(XMLValidator.validate(svg), true, 'well-formed XML');
  assert.ok(!FORBIDDEN.test(svg), 'no control characters');
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => name === 'g' });
  return parser.parse(svg) as Node;
}

test('the SVG matrix has a cell per target and version with its status, the preferred version marked', async () => {
  await withEmulator({ profile: 'escargot', versions: range(8, 15) }, async (good) => {
    const faults = ['9:reset', '10:error:600', '11:escape', '12:garbage', '13:close', '14:wrong-trid'];
    await withEmulator({ profile: 'escargot', versions: range(8, 16), faults }, async (bad) => {
      const port = await closedPort();
      const reports: TargetReport[] = [];
      for (const t of [good, bad, { host: '127.0.0.1', port }]) {
        reports.push(await probe({ host: t.host, port: t.port, versions: range(8, 16), timeoutMs: 10_000 }));
      }
      const statuses = new Set(reports.flatMap((r) => r.probes.map((p) => p.status)));
      assert.ok(statuses.size >= 6, `a mix of statuses: ${[...statuses].join(', ')}`);
      const date = new Date('2026-12-01T09:30:00Z');
      const svg = renderMatrixSvg(reports, { date });
      const doc = parseSvg(svg);
      const root = doc['svg'] as Node;
      assert.equal(root['@xmlns'], 'http://www.w3.org/2000/svg');
      assert.match(String(root['title']), /MSNP versions — 2026-12-01 09:30 UTC/);
      const cells = elements(doc, 'g').filter((g) => g['@class'] === 'cell');
      assert.equal(cells.length, reports.length * 9);
      for (const report of reports) {
        const target = formatTarget(report);
        for (const p of report.probes) {
          const cell = cells.find((c) => c['@data-target'] === target && c['@data-version'] === String(p.version));
          assert.ok(cell, `${target} MSNP${p.version}`);
          assert.equal(cell['@data-status'], p.status, `${target} MSNP${p.version}`);
          assert.equal(cell['@data-preferred'] === 'true', report.preferred === p.version);
          assert.match(String(cell['title']), new RegExp(`MSNP${p.version}: ${p.status}`));
        }
      }
      assert.equal(cells.filter((c) => c['@data-preferred'] === 'true').length, 2, 'two targets chose a version');
      // The escape fault's reply reaches a tooltip without its control bytes.
      const escaped = cells.find((c) => c['@data-target'] === formatTarget(bad) && c['@data-version'] === '11');
      assert.match(String(escaped?.['title']), /\[2J\]0;pwned\[31mCVR0/);
      const legend = elements(doc, 'g').find((g) => g['@class'] === 'legend');
      const labels = elements(legend, 'text').map((t) => String(t['#text'] ?? ''));
      for (const s of STATUSES) assert.ok(labels.includes(s), `legend names ${s}`);
      assert.ok(labels.includes('preferred version'));
    });
  });
});

test('the SVG matrix refuses more targets than fit a picture', () => {
  const report = {
    host: '127.0.0.1',
    port: 1,
    probes: [],
    accepted: [],
    preferred: null,
    answered: false,
  } as unknown as TargetReport;
  assert.throws(() => renderMatrixSvg(Array.from({ length: MAX_SVG_TARGETS + 1 }, () => report)), RangeError);
  assert.doesNotThrow(() => renderMatrixSvg([report]));
});
