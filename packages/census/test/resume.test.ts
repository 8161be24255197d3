import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type CensusOptions, runCensus } from '@forage/census';
import { censusById, emulator, eventfulRates, sorted, tempDir } from './helpers.ts';

const script = fileURLToPath(new URL('./fixtures/run-census.mjs', import.meta.url));
const token = 'ghp_resumetesttoken000000000000000000beef';

function spawnCensus(options: CensusOptions): {
  child: ChildProcess;
  started: Promise<void>;
  done: Promise<number | null>;
} {
  const child = spawn(process.execPath, [script, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr?.resume();
  const started = new Promise<void>((resolve) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('started')) resolve();
    });
    child.on('exit', () => resolve());
  });
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, started, done };
}

/** A small pseudo-random generator, so a failing run can be replayed from its seed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x ^= x + Math.imul(x ^ (x >>> 7), 61 | x);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const cases = [
  { name: 'graphql', via: 'graphql', dataset: 'synthetic:4000', repos: null },
  { name: 'rest', via: 'rest', dataset: 'synthetic:800', repos: null },
  { name: 'graphql --repos 2500', via: 'graphql', dataset: 'synthetic:4000', repos: 2500 },
] as const;

for (const { name, via, dataset, repos } of cases) {
  test(`kill -9 at random points, then resume: the ${name} census equals an uninterrupted one`, async (t) => {
    const emu = await emulator(t, {
      dataset,
      repositoryRates: eventfulRates,
      latency: { meanMs: 3, jitterMs: 2 },
      secondaryLimit: false,
    });
    const base: CensusOptions = {
      api: emu.url,
      tokens: [token],
      via,
      repos,
      shards: 6,
      concurrency: 8,
      flushIntervalMs: 20,
      limits: { restPoints: 1_000_000, graphqlPoints: 1_000_000 },
    };
    // The reference run is a child process too, so that its duration says when to kill.
    const refDir = tempDir(t);
    const ref0 = spawnCensus({ ...base, out: refDir });
    await ref0.started;
    const started = Date.now();
    assert.equal(await ref0.done, 0);
    const refMs = Date.now() - started;

    const seed = Number(process.env.CENSUS_KILL_SEED ?? Date.now() % 100_000);
    const rand = random(seed);
    const dir = tempDir(t);
    const kills: number[] = [];
    let interrupted = 0;
    for (let i = 0; i < 8 && interrupted < 4; i++) {
      const { child, started, done } = spawnCensus({ ...base, out: dir });
      // Kill somewhere in the work, once the census is under way (the machine may be busy, so
      // the window is kept short enough that a kill usually lands before the end).
      await started;
      const at = Math.round(rand() * Math.min(refMs * 0.5, 700));
      const timer = setTimeout(() => child.kill('SIGKILL'), at);
      const code = await done;
      clearTimeout(timer);
      if (code === 0) {
        // It finished before the kill: start again from nothing, so every kill interrupts.
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      kills.push(at);
      interrupted++;
    }
    const { child, done } = spawnCensus({ ...base, out: dir });
    void child;
    assert.equal(await done, 0, `final run failed (seed ${seed}, kills at ${kills.join(', ')} ms)`);
    const ref = censusById(refDir);
    const got = censusById(dir);
    const context = `seed ${seed}, kills at ${kills.join(', ')} ms`;
    assert.deepEqual(sorted(got.repos), sorted(ref.repos), `repos differ (${context})`);
    assert.deepEqual(sorted(got.languages), sorted(ref.languages), `languages differ (${context})`);
    const manifest = JSON.parse(readFileSync(join(dir, 'census.json'), 'utf8'));
    assert.equal(manifest.complete, true);
    assert.deepEqual(
      manifest.counts,
      JSON.parse(readFileSync(join(refDir, 'census.json'), 'utf8')).counts,
    );
    assert.ok(interrupted >= 1, `no run was interrupted (${context})`);
    assert.ok(manifest.runs.length >= 2, context);
    assert.equal(emu.stats().overLimit.total, 0);
  });
}

test('Ctrl-C (an aborted signal) stops cleanly and the next run finishes the census', async (t) => {
  const emu = await emulator(t, { dataset: 'synthetic:4000', latency: { meanMs: 4, jitterMs: 2 } });
  const dir = tempDir(t);
  const options: CensusOptions = {
    api: emu.url,
    tokens: [token],
    out: dir,
    shards: 4,
    concurrency: 4,
  };
  const controller = new AbortController();
  let aborted = false;
  const first = runCensus(options, {
    signal: controller.signal,
    progressIntervalMs: 20,
    onProgress: (e) => {
      if (e.type === 'progress' && e.languages > 300 && !aborted) {
        aborted = true;
        controller.abort();
      }
    },
  });
  await assert.rejects(first, {
    code: 'ERR_CENSUS_ABORTED',
    message: /run the same command again to resume/,
  });
  const partial = JSON.parse(readFileSync(join(dir, 'census.json'), 'utf8'));
  assert.equal(partial.complete, false);
  assert.match(partial.runs[0].error, /aborted/);
  const second = await runCensus(options);
  assert.equal(second.manifest.complete, true);
  assert.equal(second.manifest.counts!.listed, 4000);
  const { languages } = censusById(dir);
  assert.equal(languages.size, 4000);
  assert.equal(second.manifest.runs.length, 2);
  assert.equal(second.manifest.runs[1]!.resumed, true);
  // Resuming a finished census fetches nothing new.
  const before = emu.stats().routes['POST /graphql'];
  const third = await runCensus(options);
  assert.equal(third.manifest.complete, true);
  assert.equal(emu.stats().routes['POST /graphql'], before);
});

test('a directory holding another census is refused with the options that differ', async (t) => {
  const emu = await emulator(t, { dataset: 'synthetic:300' });
  const dir = tempDir(t);
  await runCensus({ api: emu.url, tokens: [token], out: dir, repos: 200 });
  await assert.rejects(runCensus({ api: emu.url, tokens: [token], out: dir, repos: 100 }), {
    code: 'ERR_CENSUS_OUTPUT',
    message:
      /holds a census made with --repos 200; run with those options to resume it, or choose another --out/,
  });
  assert.ok(existsSync(join(dir, 'repos.jsonl')));
});
