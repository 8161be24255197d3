import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { once, unwrap } from '@forage/decorators';

describe('once', () => {
  test('runs once; later calls get the same result, promise or error', async () => {
    let calls = 0;
    const init = once()((n: number) => {
      calls++;
      return n * 10;
    });
    assert.equal(init(1), 10);
    assert.equal(init(2), 10, 'later arguments are ignored');
    assert.equal(calls, 1);
    assert.equal(init.length, 1);
    assert.equal(typeof unwrap(init), 'function');

    const connect = once()(async () => ({ id: Math.random() }));
    assert.equal(connect(), connect());

    let attempts = 0;
    const broken = once()(() => {
      attempts++;
      throw new Error(`broken ${attempts}`);
    });
    assert.throws(() => broken(), /broken 1/);
    assert.throws(() => broken(), /broken 1/);
    assert.equal(attempts, 1);
  });

  test('on methods: once per instance, and once per class for statics', () => {
    class Db {
      static opened = 0;
      connections = 0;
      @once()
      connect(): string {
        this.connections++;
        return `conn${this.connections}`;
      }
      @once()
      static setup(): number {
        return ++Db.opened;
      }
    }
    const a = new Db();
    const b = new Db();
    assert.equal(a.connect(), 'conn1');
    assert.equal(a.connect(), 'conn1');
    assert.equal(b.connect(), 'conn1');
    assert.equal(a.connections + b.connections, 2);
    Db.setup();
    Db.setup();
    assert.equal(Db.opened, 1);
  });

  test('a wrapped function assigned as a method runs once per instance, as a decorated one', () => {
    class Db {
      connections = 0;
      declare connect: () => string;
    }
    Db.prototype.connect = once()(function (this: Db) {
      this.connections++;
      return `conn${this.connections}`;
    });
    const a = new Db();
    const b = new Db();
    assert.equal(a.connect(), 'conn1');
    assert.equal(b.connect(), 'conn1', "b connects too, instead of getting a's connection");
    assert.equal(a.connect(), 'conn1');
    assert.equal(a.connections + b.connections, 2);
  });
});
