import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import parsePrometheus, { type ParsedFamily } from 'parse-prometheus-text-format';
import { startExporter, type Exporter, type ExporterOptions } from '../src/exporter/server.js';
import { parseExporterConfig } from '../src/exporter/config.js';
import { STATUSES } from '../src/codec/outcome.js';
import { readFileSync } from 'node:fs';
import { withEmulator, range, ROOT } from './helpers.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP GET over a real socket to the exporter on loopback. */
function get(exporter: Exporter, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: exporter.host, port: exporter.port, path, method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function withExporter<T>(options: ExporterOptions, fn: (exporter: Exporter) => Promise<T>): Promise<T> {
  const exporter = await startExporter({ host: '127.0.0.1', port: 0, ...options });
  try {
    return await fn(exporter);
  } finally {
    await exporter.close();
  }
}

/** The value of one sample, found by name and labels, from a real exposition-format parse. */
function sample(families: ParsedFamily[], name: string, labels: Record<string, string> = {}): number | undefined {
  const family = families.find((f) => f.name === name);
  const found = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return found?.value === undefined ? undefined : Number(found.value);
}

async function scrape(exporter: Exporter, path: string, headers: Record<string, string> = {}): Promise<ParsedFamily[]> {
  const answer = await get(exporter, path, headers);
  assert.equal(answer.status, 200, answer.body);
  assert.match(String(answer.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return parsePrometheus(answer.body);
}

test('a scrape probes the emulator and answers every version in the exposition format', async () => {
  await withEmulator({ profile: 'escargot', versions: range(8, 15) }, async (emulator) => {
    await withExporter({ allow: ['127.0.0.1'] }, async (exporter) => {
      const m = await scrape(exporter, `/probe?target=127.0.0.1:${emulator.port}`);
      assert.equal(sample(m, 'msnp_probe_success'), 1);
      assert.equal(sample(m, 'msnp_preferred_version'), 15);
      assert.equal(sample(m, 'msnp_versions_accepted'), 8);
      assert.equal(sample(m, 'msnp_probe_deadline_exceeded'), 0);
      assert.equal(sample(m, 'msnp_probe_ip_protocol'), 4);
      for (const v of range(2, 21)) {
        const version = String(v);
        const accepted = v >= 8 && v <= 15;
        assert.equal(sample(m, 'msnp_version_accepted', { version }), accepted ? 1 : 0, `MSNP${v}`);
        // Exactly one status per version is 1: the one the probe ended in.
        const statuses = STATUSES.map((status) => sample(m, 'msnp_version_status', { version, status }));
        assert.deepEqual(statuses.filter((s) => s === 1).length, 1, `MSNP${v}`);
        assert.equal(sample(m, 'msnp_version_status', { version, status: accepted ? 'accepted' : 'rejected' }), 1);
        assert.ok((sample(m, 'msnp_version_duration_seconds', { version }) ?? -1) >= 0);
      }
      assert.equal(
        m.find((f) => f.name === 'msnp_session_confirmed'),
        undefined,
        'only with deep',
      );
    });
  });
});

test('a module of the config sets range and deep; its targets are allowed without --allow', async () => {
  await withEmulator({ profile: 'escargot', versions: range(8, 18) }, async (emulator) => {
    const config = await parseExporterConfig(
      'modules:\n  msnp15:\n    range: 14-16\n    deep: true\n    timeout: 20000\n' +
        `    targets: ["emulator.test:${emulator.port}"]\n`,
    );
    // The target is a name: an injected resolver answers for it, so no DNS query leaves the machine.
    const lookup = async (host: string) =>
      host === 'emulator.test' ? [{ address: '127.0.0.1', family: 4 as const }] : [];
    await withExporter({ config, lookup }, async (exporter) => {
      const m = await scrape(exporter, `/probe?module=msnp15&target=emulator.test:${emulator.port}`);
      assert.equal(sample(m, 'msnp_probe_success'), 1);
      assert.deepEqual(
        m.find((f) => f.name === 'msnp_version_accepted')?.metrics.map((s) => s.labels?.['version']),
        ['14', '15', '16'],
      );
      for (const version of ['14', '15', '16']) assert.equal(sample(m, 'msnp_session_confirmed', { version }), 1);
      // Another port of the same name, or another name, is not in the module's targets.
      assert.equal((await get(exporter, `/probe?module=msnp15&target=emulator.test:${emulator.port + 1}`)).status, 403);
      assert.equal((await get(exporter, `/probe?target=other.test:${emulator.port}`)).status, 403);
    });
  });
});

test('a module with transport http probes through the emulated HTTP gateway', async () => {
  await withEmulator({ profile: 'escargot', versions: range(8, 12), transport: 'http' }, async (gateway) => {
    const config = await parseExporterConfig(
      `modules:\n  gateway:\n    transport: http\n    range: 8-13\n    targets: ["127.0.0.1:${gateway.port}"]\n`,
    );
    await withExporter({ config }, async (exporter) => {
      const m = await scrape(exporter, `/probe?module=gateway&target=127.0.0.1:${gateway.port}`);
      assert.equal(sample(m, 'msnp_probe_success'), 1);
      assert.equal(sample(m, 'msnp_version_accepted', { version: '12' }), 1);
      assert.equal(sample(m, 'msnp_version_status', { version: '13', status: 'rejected' }), 1);
      assert.equal(sample(m, 'msnp_preferred_version'), 12);
    });
  });
});

test('concurrent scrapes of different targets never mix their series', async () => {
  await withEmulator({ profile: 'escargot', versions: range(2, 9), delayMs: 50 }, async (low) => {
    await withEmulator({ profile: 'escargot', versions: range(13, 18), delayMs: 50 }, async (high) => {
      await withExporter({ allow: ['127.0.0.0/8'], maxConcurrentProbes: 8 }, async (exporter) => {
        const targets = [low, high, low, high, low, high];
        const answers = await Promise.all(targets.map((e) => scrape(exporter, `/probe?target=127.0.0.1:${e.port}`)));
        answers.forEach((m, i) => {
          const isLow = targets[i] === low;
          assert.equal(sample(m, 'msnp_preferred_version'), isLow ? 9 : 18);
          assert.equal(sample(m, 'msnp_versions_accepted'), isLow ? 8 : 6);
          assert.equal(sample(m, 'msnp_version_accepted', { version: '5' }), isLow ? 1 : 0);
          assert.equal(sample(m, 'msnp_version_accepted', { version: '16' }), isLow ? 0 : 1);
          assert.equal(m.find((f) => f.name === 'msnp_version_accepted')?.metrics.length, 20, 'one series per version');
        });
        const own = await scrape(exporter, '/metrics');
        assert.equal(sample(own, 'msnp_exporter_probes_total', { module: 'default', result: 'success' }), 6);
        assert.equal(sample(own, 'msnp_exporter_probes_in_flight'), 0);
        assert.ok(
          own.some((f) => f.name.startsWith('process_')),
          'process metrics',
        );
      });
    });
  });
});

test("a silent target is cut off by the scrape's timeout, not the module's", async () => {
  await withEmulator({ faults: ['hang'] }, async (emulator) => {
    // Uncapped, a 20 s timeout per connection would hold this scrape for minutes.
    const config = await parseExporterConfig('modules:\n  slow:\n    timeout: 20000\n');
    await withExporter({ config, allow: ['127.0.0.1'] }, async (exporter) => {
      const started = performance.now();
      const m = await scrape(exporter, `/probe?module=slow&target=127.0.0.1:${emulator.port}`, {
        'X-Prometheus-Scrape-Timeout-Seconds': '2',
      });
      const seconds = (performance.now() - started) / 1000;
      assert.ok(seconds < 15, `answered after ${seconds} s`);
      assert.equal(sample(m, 'msnp_probe_success'), 0);
      assert.equal(sample(m, 'msnp_probe_deadline_seconds'), 1.5, 'the scrape timeout less the margin');
      assert.ok((sample(m, 'msnp_probe_duration_seconds') ?? 99) <= 15);
      // Either every version timed out within the budget, or the deadline cut the probe off.
      if (sample(m, 'msnp_probe_deadline_exceeded') === 0) {
        for (const v of range(2, 21))
          assert.equal(sample(m, 'msnp_version_status', { version: String(v), status: 'timeout' }), 1);
      }
    });
  });
});

test('probes beyond the limit get 503 while one runs', async () => {
  await withEmulator({ faults: ['hang'] }, async (emulator) => {
    await withExporter({ allow: ['127.0.0.1'], maxConcurrentProbes: 1 }, async (exporter) => {
      const path = `/probe?target=127.0.0.1:${emulator.port}`;
      const first = get(exporter, path, { 'X-Prometheus-Scrape-Timeout-Seconds': '4' });
      // Event-driven enough: wait until the exporter itself says a probe runs.
      for (let i = 0; i < 400; i++) {
        const own = parsePrometheus((await get(exporter, '/metrics')).body);
        if (sample(own, 'msnp_exporter_probes_in_flight') === 1) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const second = await get(exporter, path);
      assert.equal(second.status, 503);
      assert.match(second.body, /1 probes are running already/);
      assert.equal((await first).status, 200);
      const own = parsePrometheus((await get(exporter, '/metrics')).body);
      assert.equal(sample(own, 'msnp_exporter_requests_refused_total', { reason: 'busy' }), 1);
    });
  });
});

test('bad and disallowed requests get a clear status and echo nothing', async () => {
  await withExporter({ allow: ['127.0.0.1/32'] }, async (exporter) => {
    const cases: [string, number, RegExp][] = [
      ['/probe', 400, /target is missing/],
      ['/probe?target=', 400, /target is missing/],
      ['/probe?target=%3Cscript%3Ealert(1)%3C/script%3E', 400, /target is not HOST/],
      ['/probe?target=127.0.0.1:99999', 400, /target is not HOST/],
      [`/probe?target=${'a'.repeat(400)}`, 400, /target is not HOST/],
      ['/probe?target=127.0.0.1&target=127.0.0.1', 400, /given more than once/],
      ['/probe?target=127.0.0.1&%3Cb%3E=1', 400, /unknown query parameter/],
      ['/probe?target=127.0.0.1&module=%3Cb%3E', 400, /unknown module \(known: none\)/],
      ['/probe?target=127.0.0.2', 403, /not allowed/],
      ['/probe?target=[::1]:1863', 403, /not allowed/],
      ['/probe?target=localhost', 403, /not allowed/],
      ['/nothing-here', 404, /not found/],
      [`/probe?target=127.0.0.1&x=${'y'.repeat(3000)}`, 414, /longer than/],
    ];
    for (const [path, status, message] of cases) {
      const answer = await get(exporter, path);
      assert.equal(answer.status, status, path.slice(0, 80));
      assert.match(answer.body, message, path.slice(0, 80));
      assert.ok(!/<script|<b>|aaaa/.test(answer.body), 'nothing from the request is echoed');
    }
    const badTimeout = await get(exporter, '/probe?target=127.0.0.1', { 'X-Prometheus-Scrape-Timeout-Seconds': '1e9' });
    assert.equal(badTimeout.status, 400);
    const post = await get(exporter, '/probe?target=127.0.0.1', {}, 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers['allow'], 'GET, HEAD');
    const withBody = await get(exporter, '/probe?target=127.0.0.1', { 'content-length': '5' });
    assert.equal(withBody.status, 413);
    const help = await get(exporter, '/');
    assert.equal(help.status, 200);
    assert.match(help.body, /\/probe\?target=HOST:PORT/);
    const own = parsePrometheus((await get(exporter, '/metrics')).body);
    assert.equal(sample(own, 'msnp_exporter_requests_refused_total', { reason: 'forbidden' }), 3);
    assert.equal(sample(own, 'msnp_exporter_probes_total'), undefined, 'no probe ran');
  });
});

test('oversized headers are refused before any handler runs', async () => {
  await withExporter({ allow: ['127.0.0.1'] }, async (exporter) => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(exporter.port, exporter.host);
      let text = '';
      socket.setEncoding('latin1').on('data', (d: string) => (text += d));
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
      socket.write(`GET / HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
    });
    assert.match(reply, /^HTTP\/1\.1 431 /);
  });
});

test('every metric docs/EXPORTER.md names is served, and every served msnp_ metric is documented', async () => {
  const docs = readFileSync(`${ROOT}docs/EXPORTER.md`, 'utf8');
  const documented = new Set([...docs.matchAll(/`(msnp_[a-z_]+)`/g)].map((m) => m[1] ?? ''));
  await withEmulator({ profile: 'escargot' }, async (emulator) => {
    const config = await parseExporterConfig('modules:\n  deep:\n    deep: true\n    fingerprint: true\n');
    await withExporter({ config, allow: ['127.0.0.1'] }, async (exporter) => {
      const probed = await scrape(exporter, `/probe?module=deep&target=127.0.0.1:${emulator.port}`);
      const own = await scrape(exporter, '/metrics');
      const served = new Set([...probed, ...own].map((f) => f.name).filter((n) => n.startsWith('msnp_')));
      for (const name of documented) assert.ok(served.has(name), `${name} is documented but not served`);
      for (const name of served) assert.ok(documented.has(name), `${name} is served but not documented`);
      const match = probed.find((f) => f.name === 'msnp_fingerprint_match');
      assert.equal(
        match?.metrics[0]?.labels?.['signature'],
        'escargot@2020-04-11',
        "the escargot profile is named as today's Escargot",
      );
      assert.equal(match?.metrics[0]?.labels?.['kind'], 'match');
    });
  });
});

/** Prometheus' `replace` relabelling, the only action the docs' job uses: full-match regex, `$1` by default. */
function relabel(labels: Record<string, string>, rules: Record<string, unknown>[]): Record<string, string> {
  const out = { ...labels };
  for (const rule of rules) {
    assert.ok(rule['action'] === undefined || rule['action'] === 'replace', 'only replace rules');
    const sources = (rule['source_labels'] as string[] | undefined) ?? [];
    const value = sources.map((l) => out[l] ?? '').join((rule['separator'] as string | undefined) ?? ';');
    const match = new RegExp(`^(?:${(rule['regex'] as string | undefined) ?? '(.*)'})$`).exec(value);
    if (!match) continue;
    const replacement = String(rule['replacement'] ?? '$1').replace(
      /\$(\d)/g,
      (_, i: string) => match[Number(i)] ?? '',
    );
    out[String(rule['target_label'])] = replacement;
  }
  return out;
}

test("docs/EXPORTER.md's config and prometheus.yml job scrape the exporter as Prometheus would", async () => {
  const docs = readFileSync(`${ROOT}docs/EXPORTER.md`, 'utf8');
  const blocks = [...docs.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  const { parse: parseYaml } = await import('yaml');
  const job = (
    parseYaml(blocks.find((b) => b.includes('scrape_configs')) ?? '') as {
      scrape_configs: {
        job_name: string;
        metrics_path: string;
        params: Record<string, string[]>;
        relabel_configs: Record<string, unknown>[];
      }[];
    }
  ).scrape_configs.find((j) => j.job_name === 'msnp');
  assert.ok(job, 'the docs give a job named msnp');
  const config = await parseExporterConfig(blocks.find((b) => b.startsWith('modules:')) ?? '');
  await withEmulator({ profile: 'escargot' }, async (emulator) => {
    await withExporter({ config, allow: ['127.0.0.1'] }, async (exporter) => {
      const target = `127.0.0.1:${emulator.port}`;
      const labels = relabel({ __address__: target, __metrics_path__: job.metrics_path }, job.relabel_configs);
      assert.equal(labels['__param_target'], target);
      assert.equal(labels['instance'], target);
      // The job sends the scrape to the exporter's documented default address; this one listens on port 0.
      assert.equal(labels['__address__'], '127.0.0.1:9863');
      const params = new URLSearchParams();
      for (const [name, values] of Object.entries(job.params)) for (const v of values) params.append(name, v);
      params.append('target', labels['__param_target'] ?? '');
      const m = await scrape(exporter, `${job.metrics_path}?${params}`, {
        'X-Prometheus-Scrape-Timeout-Seconds': '30',
      });
      assert.equal(sample(m, 'msnp_probe_success'), 1);
      assert.equal(sample(m, 'msnp_version_accepted', { version: '15' }), 1);
    });
  });
});
