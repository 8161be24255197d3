import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConcurrencyLimitError, concurrency } from '@forage/decorators';
import { deferred, flush } from './helpers/fake-clock.ts';

describe('concurrency', () => {
  test('runs at most n at once, the rest in order; maxQueue refuses the overflow', async () => {
    let running = 0;
    let peak = 0;
    const gates = new Map<number, ReturnType<typeof deferred<void>>>();
    const order: number[] = [];
    const work = concurrency(2, { maxQueue: 2 })(async (id: number) => {
      running++;
      peak = Math.max(peak, running);
      order.push(id);
      const gate = deferred();
      gates.set(id, gate);
      await gate.promise;
      running--;
      return id;
    });
    const calls = [1, 2, 3, 4].map((id) => work(id));
    await assert.rejects(work(5), (e: unknown) => {
      assert.ok(e instanceof ConcurrencyLimitError);
      assert.equal(e.code, 'ERR_CONCURRENCY_QUEUE_FULL');
      return true;
    });
    await flush();
    assert.deepEqual(order, [1, 2]);
    gates.get(2)?.resolve();
    await flush();
    assert.deepEqual(order, [1, 2, 3]);
    gates.get(1)?.resolve();
    gates.get(3)?.resolve();
    await flush();
    gates.get(4)?.resolve();
    assert.deepEqual(await Promise.all(calls), [1, 2, 3, 4]);
    assert.equal(peak, 2);
  });

  test('a failing call frees its slot; an aborted waiter leaves the queue', async () => {
    const gate = deferred();
    const work = concurrency(1)(async (id: string, _signal?: AbortSignal) => {
      if (id === 'fail') throw new Error('fail');
      if (id === 'slow') await gate.promise;
      return id;
    });
    await assert.rejects(work('fail'), /fail/);
    const slow = work('slow');
    const controller = new AbortController();
    const waiting = work('waiting', controller.signal);
    const after = work('after');
    controller.abort(new Error('gave up'));
    await assert.rejects(waiting, /gave up/);
    gate.resolve();
    assert.deepEqual(await Promise.all([slow, after]), ['slow', 'after']);
  });

  test('a call whose signal is already aborted rejects without running or taking a slot', async () => {
    // It used to run when a slot was free: only a call that had to wait looked at its signal.
    const ran: string[] = [];
    const work = concurrency(1)(async (id: string, _signal?: AbortSignal) => {
      ran.push(id);
      return id;
    });
    await assert.rejects(work('a', AbortSignal.abort(new Error('too late'))), /too late/);
    assert.equal(await work('b'), 'b');
    assert.deepEqual(ran, ['b']);
  });

  test('on methods, shared by default and per instance on request', async () => {
    let shared = 0;
    let sharedPeak = 0;
    class Crawler {
      @concurrency(1)
      async fetch(): Promise<void> {
        shared++;
        sharedPeak = Math.max(sharedPeak, shared);
        await flush(1);
        shared--;
      }
      active = 0;
      peak = 0;
      @concurrency(1, { perInstance: true })
      async own(): Promise<void> {
        this.active++;
        this.peak = Math.max(this.peak, this.active);
        await flush(1);
        this.active--;
      }
    }
    const a = new Crawler();
    const b = new Crawler();
    await Promise.all([a.fetch(), b.fetch(), a.own(), b.own(), a.own()]);
    assert.equal(sharedPeak, 1);
    assert.equal(a.peak, 1);
    assert.throws(() => concurrency(0), /limit must be an integer >= 1/);
  });
});
