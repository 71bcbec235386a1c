/**
 * The part of numpy's LEGACY `numpy.random.RandomState` (MT19937) that
 * `keras.datasets.imdb.load_data` uses, reproduced bit for bit:
 *
 *   rng = np.random.RandomState(seed)          # seed=113 by default
 *   indices = np.arange(len(x_train)); rng.shuffle(indices)
 *   indices = np.arange(len(x_test));  rng.shuffle(indices)   # same rng
 *
 * Sources ported: `numpy/random/_mt19937.pyx` (`_legacy_seeding`),
 * `numpy/random/src/mt19937/mt19937.c` / `mt19937.h` (`mt19937_seed`,
 * `mt19937_gen`, `mt19937_next32`), `numpy/random/src/distributions/distributions.c`
 * (`random_interval`) and `numpy/random/mtrand.pyx` (`RandomState.shuffle`,
 * `_shuffle_raw`). Fixtures: test/fixtures/random-state/make_expected.py.
 *
 * All state arithmetic is unsigned 32-bit: products go through Math.imul and
 * results are brought back with `>>> 0`.
 */

const N = 624; // RK_STATE_LEN
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
const UINT32_MAX = 0xffffffff;

/** Anything indexable and writable by position: JS arrays and typed arrays. */
interface MutableArrayLike<T> {
  length: number;
  [i: number]: T;
}

export class RandomState {
  private readonly key = new Uint32Array(N);
  private pos = N;

  /**
   * `np.random.RandomState(seed)` for an integer seed. numpy's
   * `_legacy_seeding` rejects ints outside [0, 2**32 - 1] (ValueError there);
   * non-integers are rejected here too, since numpy would take a different
   * (array / TypeError) path for them.
   */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > UINT32_MAX) {
      throw new RangeError(
        `RandomState seed must be an integer in [0, 2**32 - 1], got ${String(seed)}`,
      );
    }
    // mt19937.c `mt19937_seed` == Matsumoto's init_genrand. pos = N makes the
    // first draw regenerate the whole block, as numpy does.
    const key = this.key;
    key[0] = seed;
    for (let i = 1; i < N; i++) {
      const prev = key[i - 1];
      key[i] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) >>> 0;
    }
    this.pos = N;
  }

  /** mt19937.c `mt19937_gen`: regenerate all 624 words in place. */
  private regenerate(): void {
    const key = this.key;
    let kk = 0;
    let y: number;
    for (; kk < N - M; kk++) {
      y = (key[kk] & UPPER_MASK) | (key[kk + 1] & LOWER_MASK);
      key[kk] = key[kk + M] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    }
    for (; kk < N - 1; kk++) {
      y = (key[kk] & UPPER_MASK) | (key[kk + 1] & LOWER_MASK);
      key[kk] = key[kk + (M - N)] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    }
    y = (key[N - 1] & UPPER_MASK) | (key[0] & LOWER_MASK);
    key[N - 1] = key[M - 1] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    this.pos = 0;
  }

  /** numpy's `next_uint32` for MT19937 (`mt19937_next32`): one tempered word. */
  nextUint32(): number {
    if (this.pos === N) this.regenerate();
    let y = this.key[this.pos++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** numpy's `random_sample()` (mt19937 `genrand_res53`): a double in [0, 1) from two draws. */
  randomSample(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /**
   * distributions.c `random_interval(bitgen, max)`: uniform integer in
   * [0, max] by masking with the smallest all-ones mask >= max and rejecting.
   * numpy's 64-bit branch (max > 0xffffffff) is not ported.
   */
  randomInterval(max: number): number {
    if (!Number.isInteger(max) || max < 0) {
      throw new RangeError(`randomInterval max must be a non-negative integer, got ${String(max)}`);
    }
    if (max > UINT32_MAX) {
      throw new RangeError(
        `randomInterval max ${max} > 2**32 - 1 needs numpy's 64-bit branch, which is not ported`,
      );
    }
    return this.interval32(max);
  }

  /** random_interval for a max already known to be an integer in [0, 2**32 - 1]. */
  private interval32(max: number): number {
    if (max === 0) return 0;
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    let value: number;
    // while ((value = (next_uint32(bitgen_state) & mask)) > max);
    do {
      value = (this.nextUint32() & mask) >>> 0;
    } while (value > max);
    return value;
  }

  /**
   * In-place legacy 1-D shuffle: mtrand.pyx `RandomState.shuffle` /
   * `_shuffle_raw`, i.e. `for i in reversed(range(1, n)): j = random_interval(i);
   * swap(x[i], x[j])`. Works on JS arrays and typed arrays alike.
   */
  shuffle(values: MutableArrayLike<number> | unknown[]): void {
    const x = values as MutableArrayLike<unknown>;
    const n = x.length;
    if (n - 1 > UINT32_MAX) {
      throw new RangeError(
        `shuffle of length ${n} needs numpy's 64-bit random_interval branch, which is not ported`,
      );
    }
    for (let i = n - 1; i > 0; i--) {
      const j = this.interval32(i);
      const t = x[i];
      x[i] = x[j];
      x[j] = t;
    }
  }
}

/** np.arange(n) shuffled by rng.shuffle, as an Int32Array (n < 2**31). */
export function shuffledIndices(rng: RandomState, n: number): Int32Array {
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** 31) {
    throw new RangeError(`shuffledIndices n must be an integer in [0, 2**31), got ${String(n)}`);
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  rng.shuffle(out);
  return out;
}
