import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DecoratorTargetError, decorator, unwrap, type WrapInfo } from '@forage/decorators';

/** The blog's my_decorator: records before/after around every call. */
function recorder(log: string[]) {
  return decorator(function around(fn, info) {
    return function (this: unknown, ...args: unknown[]) {
      log.push(`before ${info.name}`);
      const result = fn.apply(this, args);
      log.push(`after ${info.name}`);
      return result;
    };
  });
}

test('decorator(wrap) wraps a plain function and keeps name, length and this', () => {
  const log: string[] = [];
  const around = recorder(log);
  function add(this: { base: number }, a: number, b: number) {
    return this.base + a + b;
  }
  const wrapped = around(add);
  assert.equal(wrapped.call({ base: 10 }, 1, 2), 13);
  assert.deepEqual(log, ['before add', 'after add']);
  assert.equal(wrapped.name, 'add');
  assert.equal(wrapped.length, 2);
  assert.equal(unwrap(wrapped), add);
  assert.equal(unwrap(add), add, 'unwrap of an unwrapped function is the function itself');
});

test('decorator(wrap) as a standard method decorator: instance, static, #private', () => {
  const log: string[] = [];
  const around = recorder(log);
  class Greeter {
    constructor(readonly who: string) {}
    @around
    greet(greeting: string) {
      return `${greeting}, ${this.who}`;
    }
    @around
    static make() {
      return new Greeter('static');
    }
    @around
    #secret() {
      return `secret of ${this.who}`;
    }
    reveal() {
      return this.#secret();
    }
  }
  const g = new Greeter('Ada');
  assert.equal(g.greet('Hello'), 'Hello, Ada');
  assert.equal(Greeter.make().who, 'static');
  assert.equal(g.reveal(), 'secret of Ada');
  assert.deepEqual(log, [
    'before greet',
    'after greet',
    'before make',
    'after make',
    'before #secret',
    'after #secret',
  ]);
  assert.equal(Greeter.prototype.greet.name, 'greet');
  assert.equal(Greeter.prototype.greet.length, 1);
});

test('the wrapper learns what it wraps', () => {
  const seen: WrapInfo[] = [];
  const spy = decorator((fn, info) => {
    seen.push(info);
    return fn;
  });
  class A {
    @spy
    m() {}
    @spy
    static s() {}
  }
  spy(function plain() {});
  void A;
  assert.deepEqual(
    seen.map((i) => [i.kind, i.name, i.static, i.private]),
    [
      ['method', 's', true, false],
      ['method', 'm', false, false],
      ['function', 'plain', false, false],
    ],
  );
});

test('stacked decorators apply outermost first, as in Python', () => {
  const log: string[] = [];
  const tag = (label: string) =>
    decorator(
      (fn) =>
        function (this: unknown, ...args: unknown[]) {
          log.push(`${label}>`);
          const r = fn.apply(this, args);
          log.push(`<${label}`);
          return r;
        },
    );
  const outer = tag('outer');
  const inner = tag('inner');
  class C {
    @outer
    @inner
    m() {
      log.push('body');
    }
  }
  new C().m();
  const f = outer(
    inner(() => {
      log.push('body');
    }),
  );
  f();
  const expected = ['outer>', 'inner>', 'body', '<inner', '<outer'];
  assert.deepEqual(log, [...expected, ...expected]);
});

test('decorating a non-method fails with a clear, coded error', () => {
  const noop = decorator((fn) => fn);
  assert.throws(() => noop(42 as unknown as () => void), {
    code: 'ERR_DECORATOR_TARGET',
    message: /expects a function to wrap but got number/,
  });
  const asField = noop as unknown as (v: undefined, ctx: { kind: string; name: string }) => void;
  assert.throws(
    () => asField(undefined, { kind: 'field', name: 'x' }),
    (error: unknown) => {
      assert.ok(error instanceof DecoratorTargetError);
      assert.match(error.message, /not the field 'x'/);
      return true;
    },
  );
  assert.throws(() => decorator(null as never), { code: 'ERR_DECORATOR_TARGET' });
  const broken = decorator(() => 'nope' as never);
  assert.throws(() => broken(() => 1), /returned string, not a function/);
});
