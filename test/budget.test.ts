import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { scan } from '../src/probe/scan.js';
import { BudgetRegistry } from '../src/probe/budget.js';
import { EmulatorSession } from '../src/emulator/session.js';
import { getProfile } from '../src/emulator/profiles.js';
import type { TargetReport } from '../src/probe/probe.js';
import type { Target } from '../src/input/target.js';
import type { ReportDocument } from '../src/report/render/json.js';
import { ROOT, TEST_TIMEOUT_MS, runBin, withEmulator } from './helpers.js';

const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(
  JSON.parse(readFileSync(`${ROOT}docs/schema/report.schema.json`, 'utf8')) as object,
);

/** Names a test may use: resolved by this function, never by a resolver. */
const loopbackLookup = async (host: string): Promise<{ address: string; family: 4 }[]> => {
  if (host === 'localhost' || host === 'shared.test') return [{ address: '127.0.0.1', family: 4 }];
  throw Object.assign(new Error(`unexpected lookup of ${host}`), { code: 'ENOTFOUND' });
};

async function tempList(lines: string[]): Promise<{ path: string; done: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'msnp-probe-budget-'));
  const path = join(dir, 'targets.txt');
  await writeFile(path, `${lines.join('\n')}\n`);
  return { path, done: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A Microsoft-style dispatch server whose XFR names `notification`, so that the server a
 * redirect reaches is one whose connections the test counts.
 */
async function dispatchTo(notification: { host: string; port: number }) {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const session = new EmulatorSession(getProfile('msn-2010'), [], {
      role: 'dispatch',
      notificationAddress: `${notification.host}:${notification.port}`,
    });
    let pending = '';
    socket.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      for (let end = pending.indexOf('\r\n'); end !== -1; end = pending.indexOf('\r\n')) {
        const line = pending.slice(0, end);
        pending = pending.slice(end + 2);
        for (const action of session.onLine(line)) {
          if (action.type === 'send') socket.write(action.data);
          else if (action.type === 'close') socket.end();
          else socket.destroy();
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    host: '127.0.0.1',
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('per-server budgets: one budget per resolved address and port, across the whole scan', () => {
  test('20 duplicate lines for one server with concurrency 3: never more than 3 connections open', async () => {
    await withEmulator({ profile: 'escargot', delayMs: 30 }, async (emu) => {
      const targets: Target[] = Array.from({ length: 20 }, () => ({ host: emu.host, port: emu.port }));
      const reports: TargetReport[] = [];
      await scan(targets, { versions: [8, 9, 10, 11, 12], concurrency: 3 }, (r) => {
        reports.push(r);
      });
      // Duplicate lines are probed (and reported) once each; only the budget is shared.
      assert.equal(reports.length, 20);
      assert.ok(reports.every((r) => r.accepted.join() === '8,9,10,11,12'));
      assert.equal(emu.stats().connections, 20 * 6);
      assert.ok(emu.stats().peakActive <= 3, `peak ${emu.stats().peakActive}`);
    });
  });
  test('a name, its address and another name for it share the budget (injected lookup)', async () => {
    await withEmulator({ profile: 'escargot', delayMs: 30 }, async (emu) => {
      const hosts = ['localhost', '127.0.0.1', 'shared.test'];
      const targets: Target[] = Array.from({ length: 12 }, (_, i) => ({ host: hosts[i % 3] ?? '', port: emu.port }));
      let reports = 0;
      const options = { versions: [8, 9, 10, 11], concurrency: 2, lookup: loopbackLookup };
      await scan(targets, options, (r) => {
        assert.equal(r.address, '127.0.0.1');
        reports++;
      });
      assert.equal(reports, 12);
      assert.equal(emu.stats().connections, 12 * 5);
      assert.ok(emu.stats().peakActive <= 2, `peak ${emu.stats().peakActive}`);
    });
  });
  test('budgets live only while used: none left after the scan, few during it', async () => {
    await withEmulator({ profile: 'escargot' }, async (first) => {
      await withEmulator({ profile: 'escargot' }, async (second) => {
        const budgets = new BudgetRegistry();
        const targets: Target[] = Array.from({ length: 30 }, (_, i) => ({
          host: '127.0.0.1',
          port: i % 2 ? first.port : second.port,
        }));
        let most = 0;
        await scan(targets, { versions: [8, 9], budgets, globalConcurrency: 4 }, () => {
          most = Math.max(most, budgets.size);
        });
        assert.ok(most >= 1 && most <= 2, `at most one budget per server: ${most}`);
        assert.equal(budgets.size, 0);
      });
    });
  });
  test('--follow: hops to a server also listed share its budget', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withEmulator({ profile: 'msn-2010', dispatch: false, delayMs: 30 }, async (ns) => {
      const dispatches = await Promise.all([dispatchTo(ns), dispatchTo(ns), dispatchTo(ns)]);
      try {
        const targets: Target[] = [
          ...dispatches.flatMap((d) => [d, d]).map((d) => ({ host: d.host, port: d.port })),
          { host: ns.host, port: ns.port },
          { host: ns.host, port: ns.port },
        ];
        const reports: TargetReport[] = [];
        const options = { versions: [12, 13, 14, 15], offer: false, concurrency: 2, follow: true };
        await scan(targets, options, (r) => {
          reports.push(r);
        });
        const followed = reports.filter((r) => r.via !== undefined);
        assert.equal(followed.length, 6, 'every dispatch line followed its redirect');
        assert.ok(followed.every((r) => r.port === ns.port && r.accepted.length === 4));
        assert.equal(ns.stats().connections, 8 * 4);
        assert.ok(ns.stats().peakActive <= 2, `peak ${ns.stats().peakActive}`);
      } finally {
        await Promise.all(dispatches.map((d) => d.close()));
      }
    });
  });
});

describe('maxRate: one start rate for every connection of the run', () => {
  test('scan() with maxRate 20: 40 connections over two servers take at least 39 gaps of 50 ms', async () => {
    await withEmulator({ profile: 'escargot' }, async (emu) => {
      await withEmulator({ profile: 'escargot' }, async (other) => {
        const targets = [emu, other, emu, other].map((e) => ({ host: e.host, port: e.port }));
        const started = performance.now();
        await scan(targets, { versions: [8, 9, 10, 11, 12, 13, 14, 15, 16, 17], offer: false, maxRate: 20 }, () => {});
        const elapsed = performance.now() - started;
        assert.equal(emu.stats().connections + other.stats().connections, 40);
        // A lower bound only (timers fire late, never much early); unpaced, this takes a fraction of it.
        assert.ok(elapsed >= 1900, `took ${Math.round(elapsed)} ms`);
      });
    });
  });
});

describe('bin: per-server budgets and --max-rate', () => {
  test('duplicate lines and other spellings of one address: --concurrency 3 holds for the server', async () => {
    await withEmulator({ profile: 'escargot', delayMs: 30 }, async (emu) => {
      // Numeric spellings only: the system resolver may give `localhost` as ::1 first (as /etc/hosts does on
      // many machines), where no emulator listens. Names sharing a budget are tested above with a lookup.
      const spellings = ['127.0.0.1', '127.1', '2130706433', '0x7f.1'];
      const lines = Array.from({ length: 20 }, (_, i) => `${spellings[i % 4]}:${emu.port}`);
      const list = await tempList(lines);
      try {
        const r = await runBin(['--targets', list.path, '-r', '8-11', '--concurrency', '3', '--json']);
        assert.equal(r.code, 0, r.stderr);
        const doc = JSON.parse(r.stdout) as ReportDocument;
        assert.ok(validate(doc), JSON.stringify(validate.errors));
        assert.equal(doc.targets.length, 20, 'duplicate lines are each probed and reported');
        assert.equal(doc.options, undefined, 'no run-wide option given, none recorded');
        assert.equal(emu.stats().connections, 20 * 5);
        assert.ok(emu.stats().peakActive <= 3, `peak ${emu.stats().peakActive}`);
      } finally {
        await list.done();
      }
    });
  });
  test('--max-rate 20 over 40 connections takes at least 1.5 s', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withEmulator({ profile: 'escargot' }, async (emu) => {
      await withEmulator({ profile: 'escargot' }, async (other) => {
        const targets = [emu, other, emu, other].map((e) => `127.0.0.1:${e.port}`);
        const started = performance.now();
        const r = await runBin([...targets, '-r', '8-17', '--no-offer', '--max-rate', '20', '--json']);
        const elapsed = performance.now() - started;
        assert.equal(r.code, 0, r.stderr);
        assert.equal(emu.stats().connections + other.stats().connections, 40);
        // 39 gaps of 50 ms at the least: 1.95 s; no upper bound, the machine may be slow.
        assert.ok(elapsed >= 1500, `took ${Math.round(elapsed)} ms`);
        const doc = JSON.parse(r.stdout) as ReportDocument;
        assert.ok(validate(doc), JSON.stringify(validate.errors));
        assert.deepEqual(doc.options, { maxRate: 20 });
      });
    });
  });
  test('--max-rate: fractions allowed, anything else is a usage error (exit 2)', async () => {
    await withEmulator({ profile: 'escargot' }, async (emu) => {
      const r = await runBin([`127.0.0.1:${emu.port}`, '-r', '8', '--no-offer', '--max-rate', '0.5', '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual((JSON.parse(r.stdout) as ReportDocument).options, { maxRate: 0.5 });
    });
    for (const bad of ['0', '-1', 'fast', '0.0001', '2000000']) {
      const r = await runBin(['127.0.0.1:1', '--max-rate', bad]);
      assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
      assert.match(r.stderr, /^msnp-probe: --max-rate: /);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
  });
});
