import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ESCARGOT_ERAS, PROFILE_NAMES } from '../src/emulator/profiles.js';
import { rankMatches, resolveSignatures, verdictOf, type Signature } from '../src/probe/fingerprint/match.js';
import { SIGNATURES } from '../src/probe/fingerprint/signatures.js';
import {
  overGateway,
  ScriptConversation,
  TRAIT_ANSWERS,
  TRAIT_PROBES,
  traitsOf,
  versionsTrait,
  type BehaviourTrait,
  type ScriptResult,
  type Traits,
} from '../src/probe/fingerprint/traits.js';
import { compareBaseline } from '../src/verdict/baseline.js';
import type { TargetReport } from '../src/probe/probe.js';
import { range } from './helpers.js';
import { targetReport } from './fixtures.js';

const signatures = resolveSignatures();

/** The traits a server exactly like `s` would show, probed over MSNP2-21. */
function perfectTraits(s: Signature): Traits {
  const traits: Traits = {};
  for (const [name, expected] of Object.entries(s.traits)) {
    traits[name as BehaviourTrait] = { answer: expected[0] ?? '', measured: true };
  }
  const known = s.versions ?? [];
  const status = (version: number): string => (known.includes(version) ? 'accepted' : 'rejected');
  const probes = range(2, 21).map((version) => ({ version, status: status(version) }));
  traits.versions = versionsTrait(probes);
  return traits;
}

/** A result of a finished script: the lines the server sent, and how it ended. */
function script(lines: string[], end: ScriptResult['end'] = 'done', extra: Partial<ScriptResult> = {}): ScriptResult {
  return { lines, payloads: [], end, followed: false, ...extra };
}

function probeNamed(name: string): (typeof TRAIT_PROBES)[number] {
  const p = TRAIT_PROBES.find((x) => x.name === name);
  if (!p) throw new Error(name);
  return p;
}

describe('signature table', () => {
  test('resolves (extends) without errors, ids unique', () => {
    assert.equal(new Set(signatures.map((s) => s.id)).size, signatures.length);
    assert.equal(signatures.length, SIGNATURES.length);
  });

  test('every emulator profile and every Escargot era has a signature', () => {
    const modelled = new Set(signatures.flatMap((s) => s.profiles));
    for (const name of PROFILE_NAMES) assert.ok(modelled.has(name), `no signature models profile ${name}`);
    for (const era of ESCARGOT_ERAS) {
      const id = `escargot@${era.from}`;
      assert.ok(
        signatures.some((s) => s.id === id),
        `no signature for the era from ${era.from}`,
      );
    }
  });

  test('every implementation of the protocol facts is in the table', () => {
    const implementations = new Set(signatures.map((s) => s.implementation));
    for (const name of ['Escargot', 'ReMessenger LivePulse', 'Microsoft']) assert.ok(implementations.has(name), name);
  });

  test('expected answers are answers the traits can give', () => {
    for (const s of signatures) {
      for (const [name, expected] of Object.entries(s.traits)) {
        const answers = TRAIT_ANSWERS[name as BehaviourTrait] as readonly string[] | undefined;
        assert.ok(answers, `${s.id}: unknown trait ${name}`);
        for (const e of expected) assert.ok(answers.includes(e), `${s.id}: ${name} cannot answer ${e}`);
      }
    }
  });
});

describe('matcher', () => {
  for (const s of signatures) {
    test(`a server exactly like ${s.id} is named ${s.id}, alone`, () => {
      const verdict = verdictOf(rankMatches(perfectTraits(s)));
      assert.equal(verdict?.kind, 'match');
      assert.deepEqual(verdict?.ids, [s.id]);
      assert.match(verdict?.text ?? '', /^looks like /);
    });

    test(`${s.id}: flipping any one trait changes the verdict`, () => {
      const base = perfectTraits(s);
      for (const name of Object.keys(s.traits) as BehaviourTrait[]) {
        const other = (TRAIT_ANSWERS[name] as readonly string[]).find((a) => !(s.traits[name] ?? []).includes(a));
        assert.ok(other, name);
        const verdict = verdictOf(rankMatches({ ...base, [name]: { answer: other, measured: true } }));
        assert.ok(verdict, name);
        const still = verdict.kind === 'match' && verdict.ids.includes(s.id);
        assert.ok(!still, `${name} -> ${other} still named ${s.id}: ${verdict.text}`);
      }
    });
  }

  test('an answer no signature knows lowers the score and names the trait; it never throws', () => {
    const s = signatures.find((x) => x.id === 'escargot@2020-04-11');
    assert.ok(s);
    const traits = { ...perfectTraits(s), 'second-ver': { answer: 'VER \x1b[31m?', measured: true } };
    const ranked = rankMatches(traits);
    const verdict = verdictOf(ranked);
    assert.equal(verdict?.kind, 'closest');
    const text =
      'no known implementation; closest: Escargot (2020-04-11 or later), 12 of 13 traits (differs: second-ver)';
    assert.equal(verdict?.text, text);
    assert.deepEqual(ranked[0]?.disagree, [{ trait: 'second-ver', expected: '715', got: 'VER \x1b[31m?' }]);
    const odd: Traits = { 'no-cvr0': { answer: '', measured: true }, versions: { answer: 'x', measured: true } };
    assert.doesNotThrow(() => rankMatches(odd));
  });

  test('unmeasured traits are not counted', () => {
    const s = signatures.find((x) => x.id === 'remessenger');
    assert.ok(s);
    const traits = {
      ...perfectTraits(s),
      'split-segment': { answer: 'unmeasured', measured: false },
      'bare-lf': { answer: 'unmeasured', measured: false },
    };
    const best = rankMatches(traits)[0];
    assert.equal(best?.id, 'remessenger');
    assert.equal(best?.compared, 11);
    assert.equal(best?.agree, 11);
  });

  test('over the gateway, no-reply agrees with closed and with silent', () => {
    const s = signatures.find((x) => x.id === 'remessenger');
    assert.ok(s);
    const traits = overGateway(perfectTraits(s));
    assert.equal(traits['lowercase-ver']?.answer, 'no-reply');
    assert.equal(traits['split-segment']?.answer, 'no-reply');
    assert.equal(verdictOf(rankMatches(traits))?.ids[0], 'remessenger');
  });

  test('versions are compared only where the run got a yes or a no', () => {
    const s = signatures.find((x) => x.id === 'microsoft-2010');
    assert.ok(s);
    const traits = perfectTraits(s);
    // MSNP9 timed out: not a no, so 2010 (no MSNP9) and 2007 (MSNP9) cannot be told apart by it.
    const probes = [8, 9, 10].map((version) => ({ version, status: version === 9 ? 'timeout' : 'accepted' }));
    traits.versions = versionsTrait(probes);
    assert.deepEqual(traits.versions.probed, [8, 10]);
    const ids = rankMatches(traits)
      .filter((m) => m.disagree.length === 0)
      .map((m) => m.id);
    assert.ok(ids.includes('microsoft-2010') && ids.includes('microsoft-2007'), ids.join());
  });

  test('too few compared traits name nothing', () => {
    const verdict = verdictOf(rankMatches({ 'no-cvr0': { answer: 'accepted', measured: true } }));
    assert.equal(verdict?.kind, 'closest');
    assert.equal(verdictOf(rankMatches({})), null);
  });
});

describe('trait readers', () => {
  test('ascending offer: lowest, highest, own order, client echo, sorted echo', () => {
    const p = probeNamed('ascending-offer');
    const read = (line: string): string | undefined => p.read(script([line]), 8)['ascending-offer']?.answer;
    assert.equal(read('VER 1 MSNP2'), 'lowest');
    assert.equal(read('VER 1 MSNP21'), 'highest');
    assert.equal(read('VER 1 MSNP18'), 'own-order');
    assert.equal(read('VER 1 MSNP8 MSNP9 CVR0'), 'client-echo');
    assert.equal(read('VER 1 MSNP21 MSNP18 MSNP2 CVR0'), 'sorted-echo');
    assert.equal(read('VER 1 0'), 'rejected');
    assert.equal(read('600 1'), 'error');
    assert.equal(read('VER 1 MSNP12'), 'other');
  });

  test('no line: closed on close, silent on timeout; a failed connection is unmeasured', () => {
    const p = probeNamed('no-cvr0');
    const sc = { opening: 'VER 1 MSNP8\r\n' };
    assert.equal(traitsOf(p, script([], 'close'), 8, sc)['no-cvr0']?.answer, 'closed');
    assert.equal(traitsOf(p, script([], 'timeout'), 8, sc)['no-cvr0']?.answer, 'silent');
    const failed = traitsOf(p, script([], 'failed', { failure: 'refused' }), 8, sc)['no-cvr0'];
    assert.equal(failed?.measured, false);
    assert.match(failed?.note ?? '', /refused/);
  });

  test('leading-zero trId and second VER from one connection', () => {
    const p = probeNamed('trid-and-second-ver');
    const as = p.read(script(['VER 007 MSNP8', 'VER 2 MSNP8'], 'done', { followed: true }), 8);
    assert.equal(as['leading-zero-trid']?.answer, 'as-written');
    assert.equal(as['second-ver']?.answer, 'answered');
    const ms = p.read(script(['VER 7 MSNP8 CVR0', '715 2'], 'done', { followed: true }), 8);
    assert.equal(ms['leading-zero-trid']?.answer, 'normalized');
    assert.equal(ms['second-ver']?.answer, '715');
    // A first VER that was not accepted leaves the second question unasked.
    const closed = traitsOf(p, script([], 'close'), 8, p.script(8));
    assert.equal(closed['second-ver']?.measured, false);
  });

  test('a GCF payload before the USR challenge reads gcf-challenge', () => {
    const p = probeNamed('wrong-auth-method');
    const conversation = new ScriptConversation(p.script(15));
    const usr = { type: 'send', data: 'USR 2 TWN I probe@example.com\r\n' };
    assert.deepEqual(conversation.push(Buffer.from('VER 1 MSNP15\r\n')), usr);
    const policy = '<Policies/>';
    const step = conversation.push(Buffer.from(`GCF 0 ${policy.length}\r\n${policy}USR 2 TWN S ct=1,rver=1\r\n`));
    assert.equal(step.type, 'done');
    if (step.type !== 'done') return;
    assert.deepEqual(step.result.payloads, ['GCF']);
    assert.equal(p.read(step.result, 15)['wrong-auth-method']?.answer, 'gcf-challenge');
    const plain = script(['VER 1 MSNP15', 'USR 2 TWN S ct=1'], 'done', { followed: true });
    assert.equal(p.read(plain, 15)['wrong-auth-method']?.answer, 'challenge');
    const after = (lines: string[]): string | undefined =>
      p.read(script(lines, 'close', { followed: true }), 15)['wrong-auth-method']?.answer;
    assert.equal(after(['VER 1 MSNP15', '502 2']), '502');
    assert.equal(after(['VER 1 MSNP15']), 'closed');
    assert.equal(p.read(script(['VER 1 0'], 'close'), 15)['wrong-auth-method']?.answer, 'rejected');
  });

  test('a chatty server is cut off after a few lines', () => {
    const conversation = new ScriptConversation({ opening: 'HELLO 1\r\n' });
    const step = conversation.push(Buffer.from('NOT 0 5\r\nhelloNOT 0 5\r\nhello'.repeat(20)));
    assert.equal(step.type, 'done');
  });
});

describe('baseline: a changed implementation is a difference', () => {
  const report = (ids: string[] | null): TargetReport =>
    targetReport([], {
      answered: true,
      fingerprint: {
        traits: {},
        matches: [],
        version: 8,
        connections: 11,
        verdict: ids
          ? { kind: 'match', ids, text: 'looks like' }
          : { kind: 'closest', ids: ['remessenger'], text: 'no known' },
      },
    });
  const base = (ids: string[]): Parameters<typeof compareBaseline>[1] => ({
    host: '127.0.0.1',
    port: 1863,
    probes: [],
    preferred: null,
    offer: null,
    fingerprint: { verdict: { kind: 'match', ids } },
  });

  test('same implementation: met', () => {
    const c = compareBaseline(report(['escargot@2020-04-11']), base(['escargot@2020-04-11']));
    assert.equal(c.met, true);
    assert.equal(c.implementation, undefined);
  });

  test('another era: not met, both named', () => {
    const c = compareBaseline(report(['escargot@2019-08-10']), base(['escargot@2020-04-11']));
    assert.equal(c.met, false);
    assert.deepEqual(c.implementation, { before: 'escargot@2020-04-11', after: 'escargot@2019-08-10' });
  });

  test('no longer any known implementation: not met', () => {
    const c = compareBaseline(report(null), base(['remessenger']));
    assert.deepEqual(c.implementation, { before: 'remessenger', after: 'unknown' });
  });

  test('a run without --fingerprint compares nothing about it', () => {
    const { fingerprint: _f, ...plain } = report(['escargot@2019-08-10']);
    assert.equal(compareBaseline(plain, base(['escargot@2020-04-11'])).met, true);
  });
});
