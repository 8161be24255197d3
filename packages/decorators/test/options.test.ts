import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  concurrency,
  debounce,
  deprecated,
  retryIfAll,
  retryIfAny,
  stopAll,
  stopAny,
  timed,
  timeout,
  trace,
  waitChain,
  waitCombine,
  waitRetryAfter,
} from '@forage/decorators';

// Each of these used to be accepted, then fail at the first call with a bare TypeError such as
// "now is not a function" or "Cannot read properties of null (reading 'warn')", or (maxLength)
// print garbage. They must be refused when the decorator is made, naming what was wrong.
test('bad options are refused when the decorator is made, with an error naming the option', () => {
  const refused: [() => unknown, RegExp][] = [
    [() => trace({ summarize: 'json' as never }), /trace\(options\): summarize must be a function/],
    [() => trace({ now: 1 as never }), /trace\(options\): now must be a function/],
    [() => trace({ log: 'stdout' as never }), /trace\(options\): log must be a function/],
    [
      () => trace({ maxLength: 'abc' as never }),
      /trace\(options\): maxLength must be an integer >= 1/,
    ],
    [() => trace({ maxLength: -5 }), /maxLength must be an integer >= 1, got -5/],
    [() => trace({ name: 5 as never }), /trace\(options\): name must be a string/],
    [() => timed({ now: 1 as never }), /timed\(options\): now must be a function/],
    [() => timed(null as never), /timed\(options\): options must be an object/],
    [() => deprecated('use b()', { warn: 1 as never }), /warn must be a function/],
    [
      () => deprecated('use b()', null as never),
      /deprecated\(message, options\): options must be an object/,
    ],
    [() => timeout(5, null as never), /timeout\(ms, options\): options must be an object/],
    [
      () => concurrency(2, null as never),
      /concurrency\(limit, options\): options must be an object/,
    ],
    // Node fires a timer longer than 2^31 - 1 ms after 1 ms: every call timed out at once, and
    // a debounced burst ran at once.
    [() => timeout(Number.MAX_SAFE_INTEGER), /timeout\(ms\): ms must be at most 2147483647/],
    [() => debounce({ waitMs: 2 ** 32 }), /debounce\(options\): waitMs must be at most 2147483647/],
    [() => stopAny(3 as never), /stopAny\(\.\.\.strategies\): argument 1 must be a function/],
    [
      () => stopAll(() => true, 3 as never),
      /stopAll\(\.\.\.strategies\): argument 2 must be a function/,
    ],
    [() => waitChain(3 as never), /waitChain\(\.\.\.strategies\): argument 1 must be a function/],
    [
      () => waitCombine(3 as never),
      /waitCombine\(\.\.\.strategies\): argument 1 must be a function/,
    ],
    [() => waitRetryAfter(5 as never), /waitRetryAfter\(fallback\): argument 1 must be a function/],
    [() => retryIfAny(3 as never), /retryIfAny\(\.\.\.predicates\): argument 1 must be a function/],
    [() => retryIfAll(3 as never), /retryIfAll\(\.\.\.predicates\): argument 1 must be a function/],
  ];
  for (const [make, message] of refused) {
    assert.throws(make, (e: unknown) => {
      assert.equal((e as { code?: string }).code, 'ERR_DECORATOR_OPTION', String(e));
      assert.match((e as Error).message, message);
      return true;
    });
  }
  // Valid options still work.
  const lines: string[] = [];
  const id = trace({ maxLength: 5, name: 'id', log: (line) => lines.push(line) })((x: string) => x);
  id('hello world');
  assert.equal(lines[0], 'call id("hel…)');
});
