/**
 * Ragged integer sequences kept compact (one Int32Array of values plus offsets,
 * not an array of arrays), and Keras' `pad_sequences`.
 */
import { DatasetError, type SourceContext } from './errors.js';
import { IntList, type PyValue } from './pickle.js';

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

export class Sequences {
  /**
   * @param values every sequence's values, back to back
   * @param offsets `offsets[i]..offsets[i + 1]` is sequence i; length is count + 1
   */
  constructor(
    readonly values: Int32Array,
    readonly offsets: Int32Array,
  ) {
    if (offsets.length < 1 || offsets[0] !== 0 || offsets[offsets.length - 1] !== values.length) {
      throw new RangeError(`Sequences: offsets must run from 0 to ${values.length}`);
    }
  }

  static fromArrays(arrays: ArrayLike<number>[]): Sequences {
    const offsets = new Int32Array(arrays.length + 1);
    for (let i = 0; i < arrays.length; i++) offsets[i + 1] = offsets[i] + arrays[i].length;
    const values = new Int32Array(offsets[arrays.length]);
    for (let i = 0; i < arrays.length; i++) values.set(arrays[i], offsets[i]);
    return new Sequences(values, offsets);
  }

  /** Number of sequences. */
  get length(): number {
    return this.offsets.length - 1;
  }

  lengthOf(i: number): number {
    return this.offsets[i + 1] - this.offsets[i];
  }

  /** Sequence i as a view (no copy). */
  get(i: number): Int32Array {
    if (!(i >= 0 && i < this.length)) throw new RangeError(`sequence ${i} out of range [0, ${this.length})`);
    return this.values.subarray(this.offsets[i], this.offsets[i + 1]);
  }

  toArrays(): number[][] {
    return Array.from({ length: this.length }, (_, i) => Array.from(this.get(i)));
  }

  /** The longest sequence's length (0 when there are none). */
  maxLength(): number {
    let max = 0;
    for (let i = 0; i < this.length; i++) max = Math.max(max, this.lengthOf(i));
    return max;
  }
}

/**
 * Pack an object array of Python lists of ints (as unpickled from a `.npy`)
 * into Sequences. Every element must be a list of integers that fit in int32.
 * Compact `IntList`s that lie back to back in their arena are taken without a copy.
 */
export function sequencesFromPyLists(items: PyValue[], ctx: SourceContext = {}): Sequences {
  const offsets = new Int32Array(items.length + 1);
  let contiguous = true;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (!Array.isArray(item) && !(item instanceof IntList)) {
      throw new DatasetError(`element ${i} is not a list of word indices`, { ...ctx, expected: 'list', found: typeName(item) });
    }
    offsets[i + 1] = offsets[i] + item.length;
    contiguous &&= item instanceof IntList && item.ints !== null && item.start === (items[0] as IntList).start + offsets[i];
  }
  if (contiguous && items.length > 0) {
    const first = (items[0] as IntList).ints!;
    return new Sequences(new Int32Array(first.buffer, first.byteOffset, offsets[items.length]), offsets);
  }
  refuseSharedLists(items as (PyValue[] | IntList)[], ctx);
  const values = new Int32Array(offsets[items.length]);
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as PyValue[] | IntList;
    const ints = item instanceof IntList ? item.ints : null;
    if (ints) {
      values.set(ints, offsets[i]);
      continue;
    }
    const list = item instanceof IntList ? item.toArray() : item;
    for (let j = 0; j < list.length; j++) {
      const v = list[j];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX) {
        throw new DatasetError(`element ${i}, position ${j} is not an int32 word index`, {
          ...ctx,
          expected: 'an integer in [-2^31, 2^31)',
          found: typeof v === 'bigint' ? `${v} (too large)` : typeName(v),
        });
      }
      values[offsets[i] + j] = v;
    }
  }
  return new Sequences(values, offsets);
}

/**
 * A pickle can name one list many times through its memo, a few bytes each: a
 * 100 KB file could then expand to billions of indices. numpy never writes that for
 * distinct reviews, so a (non-empty) list that appears twice is refused. Lists that
 * lie back to back in their arena, the usual case, are distinct by construction.
 */
function refuseSharedLists(items: (PyValue[] | IntList)[], ctx: SourceContext): void {
  const first = new Map<object, number>();
  for (let i = 0; i < items.length; i++) {
    if (items[i].length === 0) continue;
    const earlier = first.get(items[i]);
    if (earlier !== undefined) {
      throw new DatasetError(`element ${i} is the same list as element ${earlier} (shared through the pickle memo)`, {
        ...ctx,
        expected: 'a distinct list per review',
        found: `one list of ${items[i].length} indices at elements ${earlier} and ${i}`,
      });
    }
    first.set(items[i], i);
  }
}

export interface PadOptions {
  /** Length of every row; defaults to the longest sequence. */
  maxlen?: number;
  /** Pad before ('pre', Keras' default) or after ('post') each sequence. */
  padding?: 'pre' | 'post';
  /** Drop values from the start ('pre', Keras' default) or the end ('post') of long sequences. */
  truncating?: 'pre' | 'post';
  /** The padding value; Keras' default is 0. */
  value?: number;
}

export interface PaddedSequences {
  /** Row-major `[count, maxlen]`. */
  data: Int32Array;
  shape: [number, number];
}

/** `keras.utils.pad_sequences` (keras/src/utils/sequence_utils.py) with dtype int32. */
export function padSequences(sequences: Sequences | ArrayLike<number>[], options: PadOptions = {}): PaddedSequences {
  const seqs = sequences instanceof Sequences ? sequences : Sequences.fromArrays(sequences);
  const { padding = 'pre', truncating = 'pre', value = 0 } = options;
  if (padding !== 'pre' && padding !== 'post') throw new RangeError(`Padding type "${padding}" not understood`);
  if (truncating !== 'pre' && truncating !== 'post') throw new RangeError(`Truncating type "${truncating}" not understood`);
  if (!Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
    throw new RangeError(`padding value must be an int32, got ${value}`);
  }
  const maxlen = options.maxlen ?? seqs.maxLength();
  if (!Number.isInteger(maxlen) || maxlen < 0) throw new RangeError(`maxlen must be a non-negative integer, got ${maxlen}`);

  const count = seqs.length;
  const data = new Int32Array(count * maxlen);
  if (value !== 0) data.fill(value);
  for (let i = 0; i < count; i++) {
    const s = seqs.get(i);
    const kept = s.length <= maxlen ? s : truncating === 'pre' ? s.subarray(s.length - maxlen) : s.subarray(0, maxlen);
    const rowStart = i * maxlen;
    data.set(kept, padding === 'post' ? rowStart : rowStart + maxlen - kept.length);
  }
  return { data, shape: [count, maxlen] };
}

function typeName(v: PyValue | undefined): string {
  if (v === null) return 'None';
  if (v === undefined) return 'nothing';
  // A compact list is still a Python list to whoever reads the message.
  if (Array.isArray(v) || v instanceof IntList) return 'list';
  if (typeof v === 'object') return v.constructor.name;
  return `${typeof v} ${String(v)}`;
}
