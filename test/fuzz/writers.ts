/**
 * Writers for the files the fuzzer starts from, laid out byte for byte as numpy and
 * Python write them (checked against real numpy output in test/fuzz.test.ts): the
 * pickle of a 1-D object array of int lists (protocols 2 and 4), `.npy` files, and
 * zip archives as `np.savez` writes them (ZIP64 extra fields in the local headers).
 */
import { deflateRawSync } from 'node:zlib';
import { crc32 } from '../../src/data/zip.js';

/** Appends bytes to a growing buffer. */
class ByteWriter {
  private out: number[] = [];
  byte(...values: number[]): this {
    for (const v of values) this.out.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.byte(v, v >>> 8);
  }
  u32(v: number): this {
    return this.byte(v, v >>> 8, v >>> 16, v >>> 24);
  }
  u64(v: number): this {
    return this.u32(v >>> 0).u32(Math.floor(v / 2 ** 32));
  }
  ascii(s: string): this {
    for (let i = 0; i < s.length; i++) this.out.push(s.charCodeAt(i) & 0xff);
    return this;
  }
  bytes(b: Uint8Array): this {
    for (const v of b) this.out.push(v);
    return this;
  }
  get length(): number {
    return this.out.length;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

/**
 * `pickle.dumps(arr, protocol)` for a 1-D numpy object array of int lists: the same
 * opcodes numpy 2 writes (numpy 1's module name `numpy.core` in protocol 2, as in
 * Keras' file), memo puts included, lists batched 1,000 items per APPENDS, a list
 * that appears twice written the second time as a memo GET.
 */
export function pickleObjectArray(reviews: number[][], protocol: 2 | 4): Uint8Array {
  const w = new ByteWriter();
  const p4 = protocol >= 4;
  let memoSize = 0;
  const strings = new Map<string, number>();
  const put = (): void => {
    if (p4) w.byte(0x94); // MEMOIZE
    else if (memoSize < 256) w.byte(0x71, memoSize); // BINPUT
    else w.byte(0x72).u32(memoSize); // LONG_BINPUT
    memoSize++;
  };
  const get = (index: number): void => {
    if (index < 256) w.byte(0x68, index); // BINGET
    else w.byte(0x6a).u32(index); // LONG_BINGET
  };
  const str = (s: string): void => {
    const seen = strings.get(s);
    if (seen !== undefined) return get(seen); // protocol 4 reuses memoized strings
    if (p4) w.byte(0x8c, s.length).ascii(s); // SHORT_BINUNICODE
    else w.byte(0x58).u32(s.length).ascii(s); // BINUNICODE
    strings.set(s, memoSize);
    put();
  };
  const global = (module: string, name: string): void => {
    if (p4) {
      str(module);
      str(name);
      w.byte(0x93); // STACK_GLOBAL
    } else {
      w.ascii(`c${module}\n${name}\n`); // GLOBAL
    }
    put();
  };
  const int = (v: number): void => {
    if (v >= 0 && v < 0x100) w.byte(0x4b, v); // BININT1
    else if (v >= 0 && v < 0x10000) w.byte(0x4d).u16(v); // BININT2
    else if (v >= -(2 ** 31) && v < 2 ** 31) w.byte(0x4a).u32(v); // BININT
    else {
      // LONG1: little-endian two's complement, as few bytes as keep the sign.
      const bytes: number[] = [];
      let x = BigInt(v);
      do {
        bytes.push(Number(x & 0xffn));
        x >>= 8n;
      } while (!((x === 0n && bytes[bytes.length - 1] < 0x80) || (x === -1n && bytes[bytes.length - 1] >= 0x80)));
      w.byte(0x8a, bytes.length, ...bytes);
    }
  };
  // The pickler memoizes every list by identity: a list met again is a memo GET.
  const lists = new Map<object, number>();
  const list = <T>(items: T[], save: (item: T) => void): void => {
    const seen = lists.get(items);
    if (seen !== undefined) return get(seen);
    lists.set(items, memoSize);
    w.byte(0x5d); // EMPTY_LIST
    put();
    // As CPython's C pickler does: APPEND for a one-item list, else MARK ... APPENDS per batch.
    if (items.length === 1) {
      save(items[0]);
      w.byte(0x61); // APPEND
      return;
    }
    for (let i = 0; i < items.length; i += 1000) {
      w.byte(0x28); // MARK
      items.slice(i, i + 1000).forEach(save);
      w.byte(0x65); // APPENDS
    }
  };

  global(p4 ? 'numpy._core.multiarray' : 'numpy.core.multiarray', '_reconstruct');
  global('numpy', 'ndarray');
  int(0);
  w.byte(0x85); // TUPLE1: shape (0,)
  put();
  if (p4) {
    w.byte(0x43, 1).ascii('b'); // SHORT_BINBYTES b'b'
    put();
  } else {
    global('_codecs', 'encode'); // protocol 2 writes bytes as _codecs.encode('b', 'latin1')
    str('b');
    str('latin1');
    w.byte(0x86); // TUPLE2
    put();
    w.byte(0x52); // REDUCE
    put();
  }
  w.byte(0x87); // TUPLE3
  put();
  w.byte(0x52); // REDUCE
  put();
  w.byte(0x28); // MARK: the state tuple
  int(1);
  int(reviews.length);
  w.byte(0x85); // TUPLE1: shape
  put();
  global('numpy', 'dtype');
  str('O8');
  w.byte(0x89, 0x88, 0x87); // False, True, TUPLE3
  put();
  w.byte(0x52); // REDUCE
  put();
  w.byte(0x28); // MARK: the dtype state
  int(3);
  str('|');
  w.byte(0x4e, 0x4e, 0x4e); // None x3
  int(-1);
  int(-1);
  int(63);
  w.byte(0x74); // TUPLE
  put();
  w.byte(0x62); // BUILD
  w.byte(0x89); // fortran_order False
  list(reviews, (l) => list(l, int));
  w.byte(0x74); // TUPLE
  put();
  w.byte(0x62, 0x2e); // BUILD, STOP
  const body = w.done();
  const out = new ByteWriter().byte(0x80, protocol);
  // Protocol 4 frames its opcodes; one frame holds all of a small pickle.
  if (p4) out.byte(0x95).u64(body.length);
  return out.bytes(body).done();
}

/** The Python repr numpy writes for a shape: `()`, `(3,)`, `(2, 3)`. */
export function shapeRepr(shape: number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/** numpy's header dict, padded with spaces so the data starts at a multiple of 64. */
export function npyHeader(dict: string, version: 1 | 2 | 3 = 1): Uint8Array {
  const preamble = version === 1 ? 10 : 12;
  const pad = 63 - ((preamble + dict.length) % 64);
  const text = `${dict}${' '.repeat(pad)}\n`;
  const w = new ByteWriter().byte(0x93).ascii('NUMPY').byte(version, 0);
  if (version === 1) w.u16(text.length);
  else w.u32(text.length);
  return w.ascii(text).done();
}

export function npyDict(descr: string, fortranOrder: boolean, shape: string): string {
  return `{'descr': '${descr}', 'fortran_order': ${fortranOrder ? 'True' : 'False'}, 'shape': ${shape}, }`;
}

/** `np.save` of an array given as its descr, shape and raw data (or pickle). */
export function npyBytes(descr: string, shape: number[], data: Uint8Array, fortranOrder = false): Uint8Array {
  const header = npyHeader(npyDict(descr, fortranOrder, shapeRepr(shape)));
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}

/** `np.save` of a 1-D object array of int lists. */
export function objectNpy(lists: number[][], protocol: 2 | 4): Uint8Array {
  return npyBytes('|O', [lists.length], pickleObjectArray(lists, protocol));
}

/** `np.save` of a 1-D little-endian int64 array (Keras' labels). */
export function int64Npy(values: number[]): Uint8Array {
  const data = new Uint8Array(values.length * 8);
  const view = new DataView(data.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return npyBytes('<i8', [values.length], data);
}

export interface ZipMember {
  name: string;
  /** The member's content: its CRC-32 and uncompressed size describe these bytes. */
  data: Uint8Array;
  /** 0 stored, 8 deflated. */
  method: 0 | 8;
  /** The stream to store instead of deflating `data` (for streams broken on purpose). */
  compressed?: Uint8Array;
}

/**
 * A zip as numpy's `savez` writes it: each local header with ZIP64 sizes
 * (0xFFFFFFFF, the real ones in a ZIP64 extra field), the central directory with
 * plain 32-bit sizes, no comment.
 */
export function zipBytes(members: ZipMember[]): Uint8Array {
  const w = new ByteWriter();
  const central = new ByteWriter();
  for (const m of members) {
    const name = new TextEncoder().encode(m.name);
    const stream = m.compressed ?? (m.method === 8 ? new Uint8Array(deflateRawSync(m.data)) : m.data);
    const crc = crc32(m.data);
    const offset = w.length;
    w.u32(0x04034b50).u16(45).u16(0).u16(m.method).u16(0).u16(0x21).u32(crc);
    w.u32(0xffffffff).u32(0xffffffff).u16(name.length).u16(20).bytes(name);
    w.u16(0x0001).u16(16).u64(m.data.length).u64(stream.length);
    w.bytes(stream);
    central.u32(0x02014b50).u16(0x032d).u16(45).u16(0).u16(m.method).u16(0).u16(0x21).u32(crc);
    central.u32(stream.length).u32(m.data.length).u16(name.length).u16(0).u16(0).u16(0).u16(0).u32(0x01800000).u32(offset).bytes(name);
  }
  const dirOffset = w.length;
  const dir = central.done();
  w.bytes(dir);
  w.u32(0x06054b50).u16(0).u16(0).u16(members.length).u16(members.length).u32(dir.length).u32(dirOffset).u16(0);
  return w.done();
}

export interface Review {
  words: number[];
  label: 0 | 1;
}
export interface Dataset {
  train: Review[];
  test: Review[];
}

/** The members of an imdb.npz holding `dataset`, as Keras' file holds it. */
export function imdbMembers(dataset: Dataset, protocol: 2 | 4): { name: string; data: Uint8Array }[] {
  return (['train', 'test'] as const).flatMap((split) => [
    { name: `x_${split}.npy`, data: objectNpy(dataset[split].map((r) => r.words), protocol) },
    { name: `y_${split}.npy`, data: int64Npy(dataset[split].map((r) => r.label)) },
  ]);
}
