/**
 * The blog's decorator example, in TypeScript: "a decorator takes in a function, adds some
 * functionality and returns it". `my_decorator` prints before and after calling
 * `simple_print`. With `decorator()` the same wrapper works on a plain function (Python's
 * `simple_print = my_decorator(simple_print)`) and as `@myDecorator` on a method.
 *
 * Run: npm run build && npx tsx examples/decorators.ts
 */
import {
  cache,
  cacheInfo,
  decorator,
  retry,
  stopAfterAttempt,
  trace,
  waitFixed,
} from '@forage/decorators';

// The blog's my_decorator: wrap the function, print before and after it runs.
const myDecorator = decorator(
  (func) =>
    function wrapper(this: unknown, ...args: unknown[]) {
      console.log('Something is happening before the function is called.');
      const result = func.apply(this, args);
      console.log('Something is happening after the function is called.');
      return result;
    },
);

// On a plain function: TypeScript's `@` cannot decorate functions, so call the decorator.
const simplePrint = myDecorator(function simplePrint() {
  console.log('Hello!');
});
simplePrint();

// On a method: the same decorator, with `@`.
class Printer {
  constructor(private readonly greeting: string) {}

  @myDecorator
  simplePrint(): void {
    console.log(this.greeting);
  }
}
new Printer('Hello from a method!').simplePrint();

// The built-ins follow the same rule, and always take options.
class Library {
  attempts = 0;

  @trace()
  @cache()
  square(n: number): number {
    return n * n;
  }

  @retry({ stop: stopAfterAttempt(3), wait: waitFixed(10) })
  async flaky(): Promise<string> {
    this.attempts++;
    if (this.attempts < 3) throw new Error(`attempt ${this.attempts} failed`);
    return `succeeded after ${this.attempts} attempts`;
  }
}

const library = new Library();
library.square(12);
library.square(12); // traced again, but served from the cache
console.log(cacheInfo(library.square, library));
console.log(await library.flaky());
