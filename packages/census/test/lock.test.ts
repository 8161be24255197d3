// census.lock: one run per --out directory, and a stale lock taken over by one run only.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { lockCensus } from '@forage/census';
import { tempDir } from './helpers.ts';

/** The pid of a process that has exited (a stale lock's holder). */
function deadPid(): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', '']);
    child.on('exit', () => resolve(child.pid as number));
  });
}

const lockOf = (pid: number) =>
  `${JSON.stringify({ pid, hostname: hostname(), startedAt: new Date().toISOString() })}\n`;

test('while another run takes a stale lock over, a second run waits, then finds the lock held', async (t) => {
  const dir = tempDir(t);
  const lock = join(dir, 'census.lock');
  writeFileSync(lock, lockOf(await deadPid()));
  // Another run is in the middle of its takeover: it holds census.lock.takeover.
  writeFileSync(`${lock}.takeover`, '');
  const second = lockCensus(dir);
  second.catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 50));
  // That run finishes its takeover: its own lock (this live process's pid stands for it).
  const taken = lockOf(process.ppid);
  writeFileSync(lock, taken);
  unlinkSync(`${lock}.takeover`);
  await assert.rejects(second, (error: Error & { code?: string }) => {
    assert.equal(error.code, 'ERR_CENSUS_OUTPUT');
    assert.ok(error.message.includes(`process ${process.ppid}`), error.message);
    return true;
  });
  assert.equal(readFileSync(lock, 'utf8'), taken, 'the new holder keeps its lock');
});

test('a takeover file left by a run that died mid-takeover is cleared after 10 s, and the stale lock taken', async (t) => {
  const dir = tempDir(t);
  const lock = join(dir, 'census.lock');
  writeFileSync(lock, lockOf(await deadPid()));
  writeFileSync(`${lock}.takeover`, '');
  const minuteAgo = new Date(Date.now() - 60_000);
  utimesSync(`${lock}.takeover`, minuteAgo, minuteAgo);
  const held = await lockCensus(dir);
  assert.equal(JSON.parse(readFileSync(lock, 'utf8')).pid, process.pid);
  assert.ok(!existsSync(`${lock}.takeover`));
  await held.release();
  assert.ok(!existsSync(lock));
});

test('six runs started together on a stale lock: exactly one gets it', async (t) => {
  const lockModule = new URL('../dist/lock.js', import.meta.url).href;
  // Each child takes the lock (or not), holds it 300 ms so that the others see it, and says so.
  const child = `
    const { lockCensus } = await import(${JSON.stringify(lockModule)});
    const [dir, start] = [process.argv[1], Number(process.argv[2])];
    while (Date.now() < start) {}
    try {
      const lock = await lockCensus(dir);
      console.log('got');
      await new Promise((r) => setTimeout(r, 300));
      await lock.release();
    } catch (error) {
      console.log(error.code);
    }`;
  for (let round = 0; round < 3; round++) {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'census.lock'), lockOf(await deadPid()));
    const start = Date.now() + 300;
    const outcomes = await Promise.all(
      Array.from(
        { length: 6 },
        () =>
          new Promise<string>((resolve) => {
            const p = spawn(process.execPath, [
              '--input-type=module',
              '-e',
              child,
              dir,
              String(start),
            ]);
            let out = '';
            p.stdout.on('data', (d: Buffer) => (out += d.toString()));
            p.stderr.on('data', (d: Buffer) => (out += d.toString()));
            // 'close', not 'exit': the exit can come before the last of stdout is read.
            p.on('close', () => resolve(out.trim()));
          }),
      ),
    );
    assert.equal(outcomes.filter((o) => o === 'got').length, 1, `round ${round}: ${outcomes}`);
    assert.ok(
      outcomes.every((o) => o === 'got' || o === 'ERR_CENSUS_OUTPUT'),
      outcomes.join(','),
    );
  }
});

// A dead run's pid reused by an unrelated process: the lock records the process instance
// (its boot and start time, from /proc on Linux) and a mismatch is stale.

/** What /proc says identifies process `pid` (boot id and start time, field 22 of its stat). */
function instanceOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  return `${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}:${start}`;
}

const noProc = !existsSync('/proc/self/stat') && 'no /proc on this system';

test('a lock whose pid now belongs to another process instance is stale and taken over', {
  skip: noProc,
}, async (t) => {
  const dir = tempDir(t);
  const lock = join(dir, 'census.lock');
  // The parent process is alive, but the lock names another instance of its pid (a dead run's
  // pid, reused): taken over.
  const reused = (instance: string) =>
    `${JSON.stringify({ pid: process.ppid, hostname: hostname(), startedAt: new Date().toISOString(), instance })}\n`;
  writeFileSync(lock, reused(`${instanceOf(process.ppid)}0`));
  const held = await lockCensus(dir);
  const written = JSON.parse(readFileSync(lock, 'utf8'));
  assert.equal(written.pid, process.pid);
  assert.equal(written.instance, instanceOf(process.pid), 'the lock records this instance');
  await held.release();
  // The same instance: held, and left alone.
  const same = reused(instanceOf(process.ppid));
  writeFileSync(lock, same);
  await assert.rejects(lockCensus(dir), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'ERR_CENSUS_OUTPUT');
    assert.ok(error.message.includes(`process ${process.ppid}`), error.message);
    return true;
  });
  assert.equal(readFileSync(lock, 'utf8'), same);
  // A lock written before locks recorded the instance: a live pid holds it, as before.
  const old = lockOf(process.ppid);
  writeFileSync(lock, old);
  await assert.rejects(lockCensus(dir), { code: 'ERR_CENSUS_OUTPUT' });
  assert.equal(readFileSync(lock, 'utf8'), old);
});
