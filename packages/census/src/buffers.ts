/** A response body longer than the reader's limit: it was not read to its end. */
export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the response body passed ${limit} bytes`);
  }
}

/**
 * Reusable buffers for response bodies.
 *
 * Why: a listing page is about 450 KB, and collecting one into a fresh buffer each time made
 * the census allocate hundreds of MB per second outside the V8 heap. V8 only collects such
 * buffers when it notices the external memory growing, which let the process's RSS run tens of
 * MB above what it needed. A body that arrives in one chunk is used as it is; a longer one is
 * copied into a buffer kept here and given back once its bytes have been turned into strings
 * and records, which never point into it.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];
  private readonly owned = new WeakSet<ArrayBufferLike>();

  /**
   * @param keep How many buffers to keep for reuse (about the long bodies read at once).
   * @param largest Buffers above this size are not kept (a rare huge body is not hoarded).
   */
  constructor(
    private readonly keep = 24,
    private readonly largest = 4 << 20,
  ) {}

  /** A buffer of at least `size` bytes (its contents are whatever was there before). */
  take(size: number): Buffer {
    // The smallest kept buffer that fits, so small bodies leave the large buffers to large ones.
    let best = -1;
    for (let k = 0; k < this.free.length; k++) {
      const length = this.free[k]!.length;
      if (length >= size && (best < 0 || length < this.free[best]!.length)) best = k;
    }
    if (best >= 0) {
      const b = this.free[best]!;
      this.free[best] = this.free[this.free.length - 1]!;
      this.free.pop();
      return b;
    }
    // Powers of two from 64 KiB, so a page a little longer than the last still fits.
    let capacity = 1 << 16;
    while (capacity < size) capacity *= 2;
    const b = Buffer.allocUnsafeSlow(capacity);
    this.owned.add(b.buffer);
    return b;
  }

  /**
   * Gives back a buffer from {@link BufferPool.take} or {@link BufferPool.read} (a view is
   * given back as its whole buffer); anything else is ignored.
   */
  give(buffer: Buffer): void {
    if (!this.owned.has(buffer.buffer)) return;
    const whole = Buffer.from(buffer.buffer, 0, buffer.buffer.byteLength);
    if (whole.length > this.largest) {
      this.owned.delete(buffer.buffer);
      return;
    }
    if (this.free.length < this.keep) {
      this.free.push(whole);
      return;
    }
    // Full: keep the larger buffers, which fit every body a smaller one fits.
    let smallest = 0;
    for (let k = 1; k < this.free.length; k++) {
      if (this.free[k]!.length < this.free[smallest]!.length) smallest = k;
    }
    if (this.free[smallest]!.length < whole.length) {
      this.owned.delete(this.free[smallest]!.buffer);
      this.free[smallest] = whole;
    } else {
      this.owned.delete(buffer.buffer);
    }
  }

  /**
   * Reads a body stream whole. One chunk is returned as it is; several are copied into a
   * pooled buffer, returned as a view of the bytes read. Give the result back with
   * {@link BufferPool.give} once nothing refers to it. A body announced (`expected`) or
   * arriving longer than `limit` bytes rejects with {@link BodyTooLarge} as soon as that is
   * known, and the stream is destroyed rather than read on: a body that never ends must not
   * grow memory without bound.
   */
  read(
    body: NodeJS.ReadableStream,
    expected?: number,
    limit = Number.POSITIVE_INFINITY,
  ): Promise<Buffer> {
    // 'data' events rather than `for await`: no promise per chunk (a page comes in ~7).
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let length = 0;
      let settled = false;
      // A body announced or grown past the limit is not read on (it may never end).
      const tooLarge = (): void => {
        settled = true;
        chunks.length = 0;
        drop();
        reject(new BodyTooLarge(limit));
        (body as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      };
      if (expected !== undefined && expected > limit) {
        settled = true;
        reject(new BodyTooLarge(limit));
        (body as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
        return;
      }
      // A long body of known length is copied chunk by chunk as it arrives, so the socket's
      // buffers die young (held to the end, some live through a scavenge and wait for a full
      // GC, which let external memory drift up by tens of MB).
      const copy = expected !== undefined && expected > 1 << 16 && expected <= this.largest;
      let into = copy ? this.take(expected) : undefined;
      const drop = () => {
        if (into) this.give(into);
        into = undefined;
      };
      body.on('data', (chunk: Buffer) => {
        if (settled) return;
        if (length + chunk.length > limit) {
          tooLarge();
          return;
        }
        if (into) {
          if (length + chunk.length <= into.length) {
            length += chunk.copy(into, length);
            return;
          }
          // Longer than announced: collect chunks, starting with a copy of what came so far.
          chunks.push(Buffer.from(into.subarray(0, length)));
          drop();
        }
        chunks.push(chunk);
        length += chunk.length;
      });
      body.once('error', (error) => {
        drop();
        if (!settled) reject(error);
      });
      body.once('end', () => {
        if (settled) return;
        if (into) resolve(into.subarray(0, length));
        else resolve(this.join(chunks, length));
        into = undefined;
      });
      // Destroyed without an error (after 'end' this is a no-op).
      body.once('close', () => {
        drop();
        if (!settled) reject(new Error('the response body ended early'));
      });
    });
  }

  private join(chunks: readonly Buffer[], length: number): Buffer {
    if (chunks.length <= 1) return chunks[0] ?? Buffer.alloc(0);
    const buffer = this.take(length);
    let at = 0;
    for (const chunk of chunks) at += chunk.copy(buffer, at);
    return buffer.subarray(0, length);
  }
}
