import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { xmlText } from '../src/report/render/svg.js';
import { compactVersions, renderBadge, reportBadge, badgeMessage, BADGE_COLORS } from '../src/report/render/badge.js';

test('xmlText escapes markup and drops what XML 1.0 forbids', () => {
  assert.equal(xmlText(`<a href="x">&'</a>`), '&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;');
  assert.equal(xmlText('a\x00b\x1b[31mc\x7f\x85\x9bd\tok\n'), 'ab[31mcd\tok\n');
  assert.equal(xmlText('\uD800x\uDC00\uFFFE'), 'x', 'lone surrogates and non-characters');
  assert.equal(xmlText('\u{1F600} é'), '\u{1F600} é', 'a pair and latin1 letters stay');
});

test('compactVersions writes runs as ranges', () => {
  assert.equal(compactVersions([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]), '2-21');
  assert.equal(compactVersions([21, 8, 9, 10, 12, 9]), '8-10, 12, 21');
  assert.equal(compactVersions([]), '');
});

test('a badge is well-formed SVG that says the accepted versions, with its colour', () => {
  const parse = (svg: string): Record<string, unknown> => {
    assert.equal(XMLValidator.validate(svg), true);
    return (
      new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' }).parse(svg) as {
        svg: Record<string, unknown>;
      }
    ).svg;
  };
  const ok = parse(reportBadge({ accepted: [8, 9, 10, 11, 12, 13, 14, 15], answered: true }));
  assert.equal(ok['title'], 'MSNP: 8-15');
  assert.equal(ok['@aria-label'], 'MSNP: 8-15');
  assert.equal(badgeMessage({ accepted: [], answered: true }).text, 'none');
  assert.equal(badgeMessage({ accepted: [], answered: false }).color, BADGE_COLORS.silent);
  const hostile = parse(renderBadge('<x>\x1b&', 'y'.repeat(100), '#123456'));
  assert.equal(hostile['title'], `<x>&: ${'y'.repeat(39)}…`, 'escaped, controls dropped, clipped');
  assert.throws(() => renderBadge('a', 'b', 'red;"'), RangeError);
});
