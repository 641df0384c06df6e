import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { csvField, csvReporter, CSV_COLUMNS } from '../src/report/formats/csv.js';
import type { TargetDocument } from '../src/report/render/json.js';

describe('CSV fields (RFC 4180, no formulas)', () => {
  test('plain text and numbers pass as they are; empty for null', () => {
    assert.equal(csvField('accepted'), 'accepted');
    assert.equal(csvField(1863), '1863');
    assert.equal(csvField(true), 'true');
    assert.equal(csvField(null), '');
  });
  test('commas, quotes and line breaks are quoted, quotes doubled', () => {
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('a\nb'), '"a\nb"');
  });
  test('a cell a spreadsheet would run as a formula is neutralised', () => {
    for (const lead of ['=', '+', '-', '@', '\t', '\r']) {
      const cell = csvField(`${lead}HYPERLINK("http://x.invalid")`);
      assert.ok(cell.startsWith(`'${lead}`) || cell.startsWith(`"'${lead}`), JSON.stringify(cell));
    }
    assert.equal(csvField('=1+1'), "'=1+1");
  });
});

describe('the csv reporter', () => {
  test('one row per version; a hostile reply is escaped and kept as data', async () => {
    let out = '';
    const r = await csvReporter({
      write: (t) => {
        out += t;
        return Promise.resolve();
      },
      versions: [8, 9],
      color: false,
      fingerprint: false,
      detailed: false,
      startedAt: new Date(0),
    });
    const doc = {
      host: 'msn.invalid',
      port: 1863,
      address: null,
      family: null,
      transport: 'tcp',
      accepted: [],
      preferred: null,
      offer: null,
      answered: true,
      elapsedMs: 1,
      probes: [
        {
          version: 8,
          status: 'error',
          reply: '=cmd|x\r\u001b[2J',
          code: 911,
          codeName: null,
          trId: 1,
          busy: false,
          elapsedMs: 1,
          bytesReceived: 9,
        },
        { version: 9, status: 'reset', reply: null, elapsedMs: 2, bytesReceived: 0 },
      ],
    } as unknown as TargetDocument;
    await r.add(doc, 0);
    await r.end({ durationMs: 1, interrupted: false, targets: 1, answered: 1, unusable: false });
    const rows = out.split('\r\n');
    assert.equal(rows.length, 4);
    assert.equal(rows[0], CSV_COLUMNS.join(','));
    assert.equal(rows[1], "msn.invalid,1863,,tcp,8,error,911,'=cmd|x\\r\\x1b[2J,1,9,,true,");
    assert.equal(rows[2], 'msn.invalid,1863,,tcp,9,reset,,,2,0,,true,');
  });
  test('an IPv6 dispatch server in via is bracketed, so its port reads apart', async () => {
    let out = '';
    const r = await csvReporter({
      write: (t) => {
        out += t;
        return Promise.resolve();
      },
      versions: [8],
      color: false,
      fingerprint: false,
      detailed: false,
      startedAt: new Date(0),
    });
    const probes = [{ version: 8, status: 'accepted', reply: 'VER 1 MSNP8', elapsedMs: 1, bytesReceived: 11 }];
    const doc = { host: '::1', port: 1864, transport: 'tcp', answered: true, probes, via: { host: '::1', port: 1863 } };
    await r.add(doc as unknown as TargetDocument, 0);
    const row = out.split('\r\n')[1] ?? '';
    assert.ok(row.endsWith(',[::1]:1863'), row);
  });
});
