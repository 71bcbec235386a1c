/**
 * A safe reader for the subset of Python's pickle format that numpy writes for
 * object arrays (what `np.save` stores for ragged data such as Keras' `imdb.npz`).
 *
 * Nothing is ever executed: the only globals a stream may name are the five in
 * `ALLOWED_GLOBALS`, and each resolves to an inert tagged stand-in (`PyGlobal`).
 * REDUCE/BUILD are interpreted only for those stand-ins, so a stream can build
 * plain values, `numpy.dtype`s and `numpy.ndarray`s and nothing else.
 *
 * The interpreter is one loop with a `switch` over the opcode byte, reading
 * integers by hand, because the real file holds ~12 million small ints.
 *
 * Hostile streams: every length is checked against the bytes left before anything
 * is allocated, and each value pushed costs at least one byte of stream, so memory
 * is bounded by the input; on top of that the value stack, the MARK stack, the memo,
 * strings and integers have hard caps (`LIMITS`), checked before they grow, so no
 * stream reaches V8's own limits ("invalid size", "Invalid string length"). Nothing
 * here recurses (nor does any later walk of the values in src/data): 100,000 nested
 * lists or MARKs are fine, and a list or dict that holds itself (through the memo) is
 * returned as is.
 *
 * `UnpickleOptions.objectArray` narrows the reader to what numpy writes for a 1-D
 * object array of int lists (Keras' imdb.npz): a stream is refused at the first
 * opcode that cannot belong to one (dicts, floats, DUP, long strings, more lists than
 * the array has elements, ...), before the structure it would grow has grown.
 * Opcode encodings follow CPython's Lib/pickle.py and Lib/pickletools.py.
 */

import { PickleError, type SourceContext } from './errors.js';

/** A tuple, kept distinct from a list (numpy's states and arguments are tuples). */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** A dict. Keys compare like a JS `Map` (by value for primitives, by identity otherwise). */
export class PyDict {
  readonly entries = new Map<PyValue, PyValue>();
}

/** The inert stand-in for one of the allowed globals. */
export class PyGlobal {
  constructor(
    /** What it stands for; both `_reconstruct` spellings map to `'reconstruct'`. */
    readonly kind: 'reconstruct' | 'ndarray' | 'dtype' | 'encode',
    /** Dotted name as found in the stream, e.g. `numpy.core.multiarray._reconstruct`. */
    readonly qualifiedName: string,
  ) {}
}

/** `numpy.dtype(descr, align, copy)` followed by BUILD with numpy's dtype state. */
export class NumpyDtype {
  /** The state tuple from BUILD, kept whole; `null` until BUILD. */
  state: PyTuple | null = null;
  /** Byte order from state[1]: `'<'`, `'>'`, `'|'` (not applicable) or `'='` (native, the default). */
  byteOrder = '=';

  constructor(
    /** Type string as passed to `numpy.dtype`, e.g. `'O8'`, `'i8'`, `'f4'`. */
    readonly descr: string,
  ) {}

  get isObject(): boolean {
    return this.descr.startsWith('O');
  }
}

/**
 * `numpy.core.multiarray._reconstruct(numpy.ndarray, shape, typecode)` followed
 * by BUILD with numpy's array state, which sets the real shape, dtype and data.
 */
export class NumpyArray {
  fortranOrder = false;
  /**
   * Object dtype: the elements as a list, in memory order. Other dtypes: the raw
   * bytes, uninterpreted (their length is not checked against shape and dtype).
   */
  data: PyValue[] | Uint8Array = new Uint8Array(0);

  constructor(
    public shape: number[],
    public dtype: NumpyDtype,
  ) {}
}

/** The shared store of `IntList`s: one Int32Array, filled front to back. */
class IntArena {
  end = 0;
  constructor(readonly values: Int32Array) {}
}

/**
 * A Python list kept, while it holds only int32s, as a slice of one shared
 * Int32Array (see `UnpickleOptions.compactIntLists`). Once it is given anything
 * else, or it is not the newest list being filled, it becomes a plain list.
 */
export class IntList {
  /** The items once the list stopped being compact; null while they live in the arena. */
  private items: PyValue[] | null = null;
  private count = 0;
  readonly start: number;

  constructor(private readonly arena: IntArena) {
    this.start = arena.end;
  }

  get length(): number {
    return this.items ? this.items.length : this.count;
  }

  /** The ints as a view of the shared arena; null if the list holds other values. */
  get ints(): Int32Array | null {
    return this.items ? null : this.arena.values.subarray(this.start, this.start + this.count);
  }

  toArray(): PyValue[] {
    return this.items ?? Array.from(this.ints!);
  }

  /** Whether ints written at the arena's end extend this list. */
  get extendable(): boolean {
    return this.items === null && this.start + this.count === this.arena.end;
  }

  /** Takes the `count` ints just written at the arena's end (only while `extendable`). */
  commit(count: number): void {
    this.count += count;
    this.arena.end += count;
  }

  /** Appends `source[from..to)`. */
  append(source: PyValue[], from: number, to: number): void {
    const arena = this.arena;
    if (this.items === null && this.start + this.count === arena.end) {
      const values = arena.values;
      let end = arena.end;
      let i = from;
      for (; i < to; i++) {
        const v = source[i];
        // A full arena (possible only for streams of DUPs) ends compaction rather than dropping a write.
        if (typeof v !== 'number' || (v | 0) !== v || end === values.length) break;
        values[end++] = v;
      }
      this.count += i - from;
      arena.end = end;
      from = i;
      if (from === to) return;
    }
    const items = (this.items ??= this.toArray());
    for (let i = from; i < to; i++) items.push(source[i]);
  }
}

export interface UnpickleOptions {
  /**
   * Build lists as `IntList`s, keeping lists of int32s in one shared Int32Array
   * instead of millions of JS numbers: for numpy object arrays of int lists,
   * several times less memory and garbage collection.
   */
  compactIntLists?: boolean;
  /**
   * Accept only the pickle of a numpy object array of `elements` int lists (what
   * numpy's `np.save` writes for ragged data), refusing at the first opcode that
   * cannot belong to one: see `OBJECT_ARRAY`.
   */
  objectArray?: { elements: number };
}

/** Hard caps of every stream, whatever its size: far above what numpy writes, far below V8's limits. */
export const LIMITS = {
  /** Values on the stack at once (V8's arrays fail past ~2^27). */
  stack: 1 << 24,
  /** MARKs open at once. */
  marks: 1 << 20,
  /** Distinct memo keys. */
  memo: 1 << 22,
  /** Bytes of one LONG1/LONG4 integer (parsing is quadratic past this in BigInt arithmetic). */
  longBytes: 8192,
  /** Bytes of one string or bytes value (V8's strings end at 2^29 - 24 characters). */
  textBytes: 1 << 28,
} as const;

/**
 * What a numpy object array of int lists can hold, whatever its size: every
 * value is an int or a list except a fixed envelope (the globals, the dtype and
 * array states), at most `envelope` values; strings and bytes there are names
 * and type codes of at most `textBytes`; MARKs nest `marks` deep at most (numpy
 * writes 3); ints fit int64. Lists: the array's own plus one per element.
 */
export const OBJECT_ARRAY = {
  envelope: 128,
  textBytes: 256,
  marks: 8,
  longBytes: 9,
  /** Opcodes numpy never writes for such an array (it writes no dict, float, DUP or POP). */
  refused: new Set<number>([0x32, 0x30, 0x31, 0x47, 0x8b, 0x7d, 0x64, 0x73, 0x75, 0x81, 0x8d, 0x8e, 0x96]),
} as const;

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | PyDict
  | PyGlobal
  | NumpyDtype
  | NumpyArray
  | IntList;

/** Opcodes of the safe subset (protocols 2 to 5, binary forms only). */
const OP = {
  MARK: 0x28, // '('
  EMPTY_TUPLE: 0x29, // ')'
  STOP: 0x2e, // '.'
  POP: 0x30, // '0'
  POP_MARK: 0x31, // '1'
  DUP: 0x32, // '2'
  BINBYTES: 0x42, // 'B'
  SHORT_BINBYTES: 0x43, // 'C'
  BINFLOAT: 0x47, // 'G'
  BININT: 0x4a, // 'J'
  BININT1: 0x4b, // 'K'
  BININT2: 0x4d, // 'M'
  NONE: 0x4e, // 'N'
  REDUCE: 0x52, // 'R'
  BINSTRING: 0x54, // 'T'
  SHORT_BINSTRING: 0x55, // 'U'
  BINUNICODE: 0x58, // 'X'
  EMPTY_LIST: 0x5d, // ']'
  APPEND: 0x61, // 'a'
  BUILD: 0x62, // 'b'
  GLOBAL: 0x63, // 'c'
  DICT: 0x64, // 'd'
  APPENDS: 0x65, // 'e'
  BINGET: 0x68, // 'h'
  LONG_BINGET: 0x6a, // 'j'
  LIST: 0x6c, // 'l'
  BINPUT: 0x71, // 'q'
  LONG_BINPUT: 0x72, // 'r'
  SETITEM: 0x73, // 's'
  TUPLE: 0x74, // 't'
  SETITEMS: 0x75, // 'u'
  EMPTY_DICT: 0x7d, // '}'
  PROTO: 0x80,
  NEWOBJ: 0x81,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  LONG1: 0x8a,
  LONG4: 0x8b,
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE8: 0x8d,
  BINBYTES8: 0x8e,
  STACK_GLOBAL: 0x93,
  MEMOIZE: 0x94,
  FRAME: 0x95,
  BYTEARRAY8: 0x96,
} as const;

/** Names of the opcodes we refuse, so the error says which one it met. */
const REFUSED_OPCODES: Record<number, string> = {
  0x46: 'FLOAT',
  0x49: 'INT',
  0x4c: 'LONG',
  0x50: 'PERSID',
  0x51: 'BINPERSID',
  0x53: 'STRING',
  0x56: 'UNICODE',
  0x67: 'GET',
  0x69: 'INST',
  0x6f: 'OBJ',
  0x70: 'PUT',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS',
  0x91: 'FROZENSET',
  0x92: 'NEWOBJ_EX',
  0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

/** Refused like the others, but its error names the global it would have called. */
const INST = 0x69;

const OP_NAMES: Record<number, string> = { ...REFUSED_OPCODES };
for (const [name, code] of Object.entries(OP)) OP_NAMES[code] = name;

/** The only globals a stream may name ("module name" → stand-in kind). */
const ALLOWED_GLOBALS: ReadonlyMap<string, PyGlobal['kind']> = new Map([
  ['numpy.core.multiarray _reconstruct', 'reconstruct'],
  ['numpy._core.multiarray _reconstruct', 'reconstruct'],
  ['numpy ndarray', 'ndarray'],
  ['numpy dtype', 'dtype'],
  ['_codecs encode', 'encode'],
] as const);

const MIN_PROTOCOL = 2;
const MAX_PROTOCOL = 5;
const NEWLINE = 0x0a;
const TWO_32 = 2 ** 32;
/** LONG1/LONG4 of up to this many bytes fit a double exactly (2^48 < 2^53). */
const MAX_EXACT_LONG_BYTES = 6;

// ignoreBOM: a leading U+FEFF is part of a Python string, not a marker to strip.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Width of the length prefix of each sized opcode. */
const LENGTH_WIDTH: Record<number, 1 | 4 | 8> = {
  [OP.LONG1]: 1,
  [OP.SHORT_BINSTRING]: 1,
  [OP.SHORT_BINUNICODE]: 1,
  [OP.SHORT_BINBYTES]: 1,
  [OP.LONG4]: 4,
  [OP.BINSTRING]: 4,
  [OP.BINUNICODE]: 4,
  [OP.BINBYTES]: 4,
  [OP.BINUNICODE8]: 8,
  [OP.BINBYTES8]: 8,
  [OP.BYTEARRAY8]: 8,
  [OP.FRAME]: 8,
};

/**
 * Reads one pickle from `bytes` and returns the value that STOP leaves.
 * Throws `PickleError` (offsets shifted by `ctx.baseOffset`) for anything
 * malformed, truncated or outside the safe subset; bytes after STOP are ignored.
 */
export function unpickle(bytes: Uint8Array, ctx: SourceContext = {}, options: UnpickleOptions = {}): PyValue {
  const n = bytes.length;
  // Every int on the stack took at least two bytes of stream (DUP aside), so this never fills for real data.
  const arena = options.compactIntLists ? new IntArena(new Int32Array((n >>> 1) + 1)) : null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The stack array only grows and `sp` is its logical height: shrinking a JS
  // array makes V8 trim it and regrow it on the next batch, doubling GC work.
  const stack: PyValue[] = [];
  let sp = 0;
  // Stack heights at each open MARK. Items below the innermost one belong to an
  // enclosing MARK and may not be consumed (CPython keeps them on its metastack).
  const marks: number[] = [];
  const memo = new Memo();
  let pos = 0;
  const profile = options.objectArray;
  const maxMarks = profile ? OBJECT_ARRAY.marks : LIMITS.marks;
  const maxText = profile ? OBJECT_ARRAY.textBytes : LIMITS.textBytes;
  const maxLong = profile ? OBJECT_ARRAY.longBytes : LIMITS.longBytes;
  const maxLists = profile ? profile.elements + 1 : Infinity;
  const maxMemo = profile ? Math.min(LIMITS.memo, maxLists + OBJECT_ARRAY.envelope) : LIMITS.memo;
  let envelope = 0;
  let lists = 0;

  // The helpers below never capture `pos` or `sp` (they are passed in), so the hot
  // loop keeps those two in registers.
  const fail = (problem: string, at: number, expected?: string, found?: string): PickleError =>
    new PickleError(problem, {
      file: ctx.file,
      member: ctx.member,
      offset: (ctx.baseOffset ?? 0) + at,
      expected,
      found,
    });
  const opName = (at: number): string => OP_NAMES[bytes[at]];
  const truncated = (at: number, count: number, left: number): PickleError =>
    fail(`truncated pickle: ${opName(at)} needs ${count} more bytes`, at, `${count} bytes`, `${left} bytes`);
  /** Stack height where the innermost MARK's items start. */
  const floor = (): number => (marks.length > 0 ? marks[marks.length - 1] : 0);
  const underflow = (at: number, count: number, height: number): PickleError =>
    fail(`stack underflow in ${opName(at)}`, at, `${count} items above the last MARK`, `${height - floor()}`);
  /** Closes the innermost MARK and returns the stack height where its items start. */
  const popMark = (at: number): number => {
    const start = marks.pop();
    if (start === undefined) throw fail(`${opName(at)} without a MARK`, at, 'an open MARK', 'none');
    return start;
  };
  /** Reads the length prefix of the sized opcode at `at`, checking that many bytes follow before anything is allocated. */
  const sizeAt = (at: number): number => {
    const width = LENGTH_WIDTH[bytes[at]];
    const p = at + 1;
    if (n - p < width) throw truncated(at, width, n - p);
    // 8-byte lengths past 2^53 lose precision but still compare as too big.
    const len = width === 1 ? bytes[p] : width === 4 ? u32(bytes, p) : u32(bytes, p) + u32(bytes, p + 4) * TWO_32;
    const left = n - p - width;
    if (len > left) throw fail(`${opName(at)} declares ${len} bytes, past the end of the pickle`, at, `${len} bytes`, `${left} bytes`);
    return len;
  };
  const decodeText = (at: number, start: number, end: number): string => {
    try {
      return utf8.decode(bytes.subarray(start, end));
    } catch {
      throw fail(`invalid UTF-8 in ${opName(at)}`, at, 'UTF-8 text', 'undecodable bytes');
    }
  };
  /** The two newline-terminated lines (module, name) of GLOBAL or INST from `p`; null if they do not end within `maxText` bytes each. */
  const globalLines = (p: number, max = maxText): { module: [number, number]; name: [number, number]; end: number } | null => {
    const lineEnd = (from: number) => {
      const end = bytes.subarray(from, Math.min(n, from + max + 1)).indexOf(NEWLINE);
      return end < 0 ? -1 : from + end;
    };
    const moduleEnd = lineEnd(p);
    const nameEnd = moduleEnd < 0 ? -1 : lineEnd(moduleEnd + 1);
    return nameEnd < 0 ? null : { module: [p, moduleEnd], name: [moduleEnd + 1, nameEnd], end: nameEnd + 1 };
  };
  /** Counts one value of the object array's envelope (anything but an int or a list). */
  const envelopeValue = (at: number): void => {
    if (profile && ++envelope > OBJECT_ARRAY.envelope) {
      throw fail(`${opName(at)}: more than ${OBJECT_ARRAY.envelope} values other than ints and lists, which a numpy object array of int lists never holds`, at);
    }
  };
  const newList = (at: number): void => {
    if (++lists > maxLists) {
      throw fail(`${opName(at)}: more lists than a numpy object array of ${profile!.elements} int lists holds`, at, `at most ${maxLists} lists`, `list ${lists}`);
    }
  };
  /** A sized argument (string, bytes, integer) of at most `max` bytes. */
  const boundedSizeAt = (at: number, max: number): number => {
    const len = sizeAt(at);
    if (len > max) {
      const why = profile ? 'longer than any in a numpy object array of int lists' : 'past the reader\'s limit';
      throw fail(`${opName(at)} of ${len} bytes: ${why}`, at, `at most ${max} bytes`, `${len} bytes`);
    }
    return len;
  };
  const resolveGlobal = (module: string, name: string, at: number): PyGlobal => {
    const kind = ALLOWED_GLOBALS.get(`${module} ${name}`);
    const qualified = `${module}.${name}`;
    if (kind === undefined) {
      throw fail(`forbidden global '${qualified}'`, at, 'numpy._reconstruct, numpy.ndarray, numpy.dtype or _codecs.encode', qualified);
    }
    return new PyGlobal(kind, qualified);
  };
  const memoFull = (at: number): PickleError =>
    fail(`memo past ${maxMemo} entries${profile ? ', more than a numpy object array of int lists stores' : ''}`, at, `at most ${maxMemo}`, `${maxMemo + 1}`);
  const listAt = (at: number, index: number): PyValue[] | IntList => {
    const target = stack[index];
    if (!Array.isArray(target) && !(target instanceof IntList)) throw fail(`${opName(at)} onto a non-list`, at, 'list', describe(target));
    return target;
  };
  const dictAt = (at: number, index: number): PyDict => {
    const target = stack[index];
    if (!(target instanceof PyDict)) throw fail(`${opName(at)} onto a non-dict`, at, 'dict', describe(target));
    return target;
  };
  /** Stores stack[start..end) as key/value pairs; the caller drops them from the stack. */
  const setItems = (at: number, dict: PyDict, start: number, end: number): void => {
    if ((end - start) % 2 !== 0) throw fail(`odd number of items for ${opName(at)}`, at, 'key/value pairs', `${end - start} items`);
    for (let i = start; i < end; i += 2) dict.entries.set(stack[i], stack[i + 1]);
  };

  for (;;) {
    if (pos >= n) throw fail('truncated pickle: no STOP opcode', n, 'STOP', 'end of data');
    const at = pos;
    const op = bytes[pos++];
    // Each opcode pushes one value at most: checking here bounds the stack before it grows.
    if (sp >= LIMITS.stack) throw fail(`value stack past ${LIMITS.stack} items`, at, `at most ${LIMITS.stack}`, `${sp}`);
    if (profile && OBJECT_ARRAY.refused.has(op)) {
      throw fail(`opcode ${OP_NAMES[op]} cannot belong to a numpy object array of int lists`, at, 'the opcodes numpy writes for one', OP_NAMES[op]);
    }
    switch (op) {
      // Hot path for numpy object arrays of int lists: BININT1/BININT2/BININT then APPENDS.
      case OP.BININT1:
        if (n - pos < 1) throw truncated(at, 1, n - pos);
        stack[sp++] = bytes[pos++];
        break;
      case OP.BININT2:
        if (n - pos < 2) throw truncated(at, 2, n - pos);
        stack[sp++] = bytes[pos] | (bytes[pos + 1] << 8);
        pos += 2;
        break;
      case OP.BININT:
        if (n - pos < 4) throw truncated(at, 4, n - pos);
        stack[sp++] = bytes[pos] | (bytes[pos + 1] << 8) | (bytes[pos + 2] << 16) | (bytes[pos + 3] << 24);
        pos += 4;
        break;
      case OP.APPENDS: {
        const start = popMark(at);
        if (start <= floor()) throw underflow(at, 1, start);
        const list = listAt(at, start - 1);
        if (list instanceof IntList) {
          list.append(stack, start, sp);
        } else {
          // Growing once to the final length allocates far less than one push per item.
          const base = list.length - start;
          list.length = base + sp;
          for (let i = start; i < sp; i++) list[base + i] = stack[i];
        }
        sp = start;
        break;
      }
      case OP.MARK: {
        if (marks.length >= maxMarks) throw fail(`MARKs nested past ${maxMarks}`, at, `at most ${maxMarks} open MARKs`, `${marks.length + 1}`);
        const list = arena && sp > floor() ? stack[sp - 1] : null;
        marks.push(sp);
        if (!(list instanceof IntList && list.extendable)) break;
        // numpy's int lists are MARK, ints, APPENDS: write the ints straight into the
        // arena. If the run does not end in APPENDS nothing is committed and the
        // main loop reads the same bytes again the ordinary way.
        const first = arena!.end;
        const run = scanInts(bytes, pos, arena!.values, first);
        const end = run.end;
        const p = run.pos;
        if (p < n && bytes[p] === OP.APPENDS) {
          marks.pop();
          list.commit(end - first);
          pos = p + 1;
        }
        break;
      }
      case OP.EMPTY_LIST:
        newList(at);
        stack[sp++] = arena ? new IntList(arena) : [];
        break;
      case OP.BINPUT:
      case OP.LONG_BINPUT: {
        const width = op === OP.BINPUT ? 1 : 4;
        if (n - pos < width) throw truncated(at, width, n - pos);
        if (sp <= floor()) throw underflow(at, 1, sp);
        const key = width === 1 ? bytes[pos] : u32(bytes, pos);
        if (memo.size >= maxMemo && !memo.has(key)) throw memoFull(at);
        memo.set(key, stack[sp - 1]);
        pos += width;
        break;
      }
      case OP.MEMOIZE:
        if (sp <= floor()) throw underflow(at, 1, sp);
        if (memo.size >= maxMemo && !memo.has(memo.size)) throw memoFull(at);
        memo.set(memo.size, stack[sp - 1]);
        break;
      case OP.BINGET:
      case OP.LONG_BINGET: {
        const width = op === OP.BINGET ? 1 : 4;
        if (n - pos < width) throw truncated(at, width, n - pos);
        const key = width === 1 ? bytes[pos] : u32(bytes, pos);
        pos += width;
        const value = memo.get(key);
        if (value === undefined) {
          throw fail(`memo key ${key} not defined: ${opName(at)} of an index nothing was stored at`, at, `one of the ${memo.size} keys stored by BINPUT/MEMOIZE`, `${key}`);
        }
        stack[sp++] = value;
        break;
      }
      case OP.PROTO: {
        if (n - pos < 1) throw truncated(at, 1, n - pos);
        const version = bytes[pos++];
        if (version < MIN_PROTOCOL || version > MAX_PROTOCOL) {
          throw fail(`unsupported pickle protocol ${version}`, at, `${MIN_PROTOCOL} to ${MAX_PROTOCOL}`, `${version}`);
        }
        break;
      }
      case OP.FRAME:
        // Frames only group opcodes for buffered I/O; reading from memory, we
        // check the frame fits and read on through it.
        sizeAt(at);
        pos += LENGTH_WIDTH[op];
        break;
      case OP.STOP:
        if (sp <= floor()) throw underflow(at, 1, sp);
        return stack[sp - 1];
      case OP.POP:
        // CPython pops a MARK when nothing is above it.
        if (sp > floor()) sp--;
        else if (marks.length > 0) marks.pop();
        else throw underflow(at, 1, sp);
        break;
      case OP.POP_MARK:
        sp = popMark(at);
        break;
      case OP.DUP:
        if (sp <= floor()) throw underflow(at, 1, sp);
        stack[sp] = stack[sp - 1];
        sp++;
        break;
      case OP.NONE:
        envelopeValue(at);
        stack[sp++] = null;
        break;
      case OP.NEWTRUE:
        envelopeValue(at);
        stack[sp++] = true;
        break;
      case OP.NEWFALSE:
        envelopeValue(at);
        stack[sp++] = false;
        break;
      case OP.LONG1:
      case OP.LONG4: {
        const start = pos + LENGTH_WIDTH[op];
        pos = start + boundedSizeAt(at, maxLong);
        stack[sp++] = readLong(bytes, start, pos - start);
        break;
      }
      case OP.BINFLOAT:
        envelopeValue(at);
        if (n - pos < 8) throw truncated(at, 8, n - pos);
        stack[sp++] = view.getFloat64(pos, false);
        pos += 8;
        break;
      case OP.SHORT_BINSTRING:
      case OP.BINSTRING: {
        // Python 2 `str`: decoded as latin1, as numpy.load(encoding='latin1') does.
        envelopeValue(at);
        const start = pos + LENGTH_WIDTH[op];
        pos = start + boundedSizeAt(at, maxText);
        stack[sp++] = latin1(bytes, start, pos);
        break;
      }
      case OP.SHORT_BINUNICODE:
      case OP.BINUNICODE:
      case OP.BINUNICODE8: {
        envelopeValue(at);
        const start = pos + LENGTH_WIDTH[op];
        pos = start + boundedSizeAt(at, maxText);
        stack[sp++] = decodeText(at, start, pos);
        break;
      }
      case OP.SHORT_BINBYTES:
      case OP.BINBYTES:
      case OP.BINBYTES8:
      case OP.BYTEARRAY8: {
        envelopeValue(at);
        const start = pos + LENGTH_WIDTH[op];
        pos = start + boundedSizeAt(at, maxText);
        stack[sp++] = bytes.slice(start, pos);
        break;
      }
      case OP.EMPTY_TUPLE:
        envelopeValue(at);
        stack[sp++] = new PyTuple([]);
        break;
      case OP.TUPLE:
      case OP.TUPLE1:
      case OP.TUPLE2:
      case OP.TUPLE3: {
        envelopeValue(at);
        let start: number;
        if (op === OP.TUPLE) {
          start = popMark(at);
        } else {
          const count = op - OP.TUPLE1 + 1;
          if (sp - floor() < count) throw underflow(at, count, sp);
          start = sp - count;
        }
        const tuple = new PyTuple(stack.slice(start, sp));
        sp = start;
        stack[sp++] = tuple;
        break;
      }
      case OP.LIST: {
        newList(at);
        const start = popMark(at);
        const list = stack.slice(start, sp);
        sp = start;
        stack[sp++] = list;
        break;
      }
      case OP.APPEND:
        if (sp - floor() < 2) throw underflow(at, 2, sp);
      {
        sp--;
        const list = listAt(at, sp - 1);
        if (list instanceof IntList) list.append(stack, sp, sp + 1);
        else list.push(stack[sp]);
        break;
      }
      case OP.EMPTY_DICT:
        stack[sp++] = new PyDict();
        break;
      case OP.DICT: {
        const start = popMark(at);
        const dict = new PyDict();
        setItems(at, dict, start, sp);
        sp = start;
        stack[sp++] = dict;
        break;
      }
      case OP.SETITEM:
        if (sp - floor() < 3) throw underflow(at, 3, sp);
        setItems(at, dictAt(at, sp - 3), sp - 2, sp);
        sp -= 2;
        break;
      case OP.SETITEMS: {
        const start = popMark(at);
        if (start <= floor()) throw underflow(at, 1, start);
        setItems(at, dictAt(at, start - 1), start, sp);
        sp = start;
        break;
      }
      case OP.GLOBAL: {
        envelopeValue(at);
        const line = globalLines(pos);
        if (!line) {
          if (n - pos <= 2 * maxText + 1) throw fail('truncated pickle: GLOBAL needs two newline-terminated lines', at, 'newline', 'end of data');
          throw fail(`GLOBAL of a line longer than ${maxText} bytes`, at, `lines of at most ${maxText} bytes`, 'a longer line');
        }
        pos = line.end;
        stack[sp++] = resolveGlobal(decodeText(at, line.module[0], line.module[1]), decodeText(at, line.name[0], line.name[1]), at);
        break;
      }
      case OP.STACK_GLOBAL: {
        envelopeValue(at);
        if (sp - floor() < 2) throw underflow(at, 2, sp);
        const module = stack[sp - 2];
        const name = stack[sp - 1];
        if (typeof module !== 'string' || typeof name !== 'string') {
          throw fail('STACK_GLOBAL needs two strings', at, 'str, str', `${describe(module)}, ${describe(name)}`);
        }
        sp -= 2;
        stack[sp++] = resolveGlobal(module, name, at);
        break;
      }
      case OP.REDUCE: {
        envelopeValue(at);
        if (sp - floor() < 2) throw underflow(at, 2, sp);
        const callable = stack[sp - 2];
        const args = stack[sp - 1];
        if (!(callable instanceof PyGlobal) || !(args instanceof PyTuple)) {
          throw fail('REDUCE of something other than an allowed global', at, 'allowed global and argument tuple', `${describe(callable)}, ${describe(args)}`);
        }
        let result: PyValue;
        try {
          result = reduce(callable, args.items);
        } catch (e) {
          if (e instanceof Refusal) throw fail(`cannot call ${callable.qualifiedName}: ${e.message}`, at);
          throw e;
        }
        sp -= 2;
        stack[sp++] = result;
        break;
      }
      case OP.BUILD: {
        if (sp - floor() < 2) throw underflow(at, 2, sp);
        const target = stack[sp - 2];
        const state = stack[sp - 1];
        try {
          if (target instanceof NumpyArray) setArrayState(target, state);
          else if (target instanceof NumpyDtype) setDtypeState(target, state);
          else throw new Refusal(`BUILD of unsupported object ${describe(target)}`);
        } catch (e) {
          if (e instanceof Refusal) throw fail(e.message, at);
          throw e;
        }
        sp--;
        break;
      }
      case OP.NEWOBJ:
        // numpy never pickles through NEWOBJ, so no class is constructible this way.
        if (sp - floor() < 2) throw underflow(at, 2, sp);
        throw fail(`NEWOBJ of unsupported class ${describe(stack[sp - 2])}`, at);
      default: {
        const name = REFUSED_OPCODES[op];
        let found = `0x${op.toString(16).padStart(2, '0')}${name ? ` ('${name}')` : ' (unknown)'}`;
        // INST names a global and calls it: refused whatever it names, but the error says what.
        // Only a name short enough to quote: the error stays one short line.
        const line = op === INST ? globalLines(pos, OBJECT_ARRAY.textBytes) : null;
        if (line) found += ` of global '${latin1(bytes, line.module[0], line.module[1])}.${latin1(bytes, line.name[0], line.name[1])}'`;
        throw fail(`unsupported pickle opcode ${found}`, at, 'an opcode of the safe subset (protocols 2 to 5)', found);
      }
    }
  }
}

/** Keys below this live in an array: picklers number their puts 0, 1, 2, ... */
const DENSE_MEMO_KEYS = 1 << 22;

/**
 * The pickle memo: an array for the small keys picklers write (a Map of a million entries
 * took most of the time of a million-list pickle), a Map for any larger key.
 */
class Memo {
  private readonly dense: PyValue[] = [];
  private readonly sparse = new Map<number, PyValue>();
  size = 0;

  has(key: number): boolean {
    return key < DENSE_MEMO_KEYS ? this.dense[key] !== undefined : this.sparse.has(key);
  }

  /** The value stored at `key`; undefined if none (a stored None is null). */
  get(key: number): PyValue | undefined {
    return key < DENSE_MEMO_KEYS ? this.dense[key] : this.sparse.get(key);
  }

  set(key: number, value: PyValue): void {
    if (!this.has(key)) this.size++;
    if (key < DENSE_MEMO_KEYS) this.dense[key] = value;
    else this.sparse.set(key, value);
  }
}

const intRun = { pos: 0, end: 0 };

/**
 * Reads consecutive BININT1/BININT2/BININT opcodes from `pos` into `values`
 * from `end`, stopping at any other opcode, at a truncated one, or when
 * `values` is full. A small function of its own, so V8 optimizes it early.
 */
function scanInts(bytes: Uint8Array, pos: number, values: Int32Array, end: number): typeof intRun {
  const n = bytes.length;
  const capacity = values.length;
  while (end < capacity) {
    const code = bytes[pos];
    if (code === OP.BININT1 && pos + 1 < n) {
      values[end++] = bytes[pos + 1];
      pos += 2;
    } else if (code === OP.BININT2 && pos + 2 < n) {
      values[end++] = bytes[pos + 1] | (bytes[pos + 2] << 8);
      pos += 3;
    } else if (code === OP.BININT && pos + 4 < n) {
      values[end++] = bytes[pos + 1] | (bytes[pos + 2] << 8) | (bytes[pos + 3] << 16) | (bytes[pos + 4] << 24);
      pos += 5;
    } else break;
  }
  intRun.pos = pos;
  intRun.end = end;
  return intRun;
}

function u32(bytes: Uint8Array, p: number): number {
  return (bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24)) >>> 0;
}

/** Little-endian two's complement integer of `len` bytes; a number when safe. */
function readLong(bytes: Uint8Array, start: number, len: number): number | bigint {
  if (len === 0) return 0;
  const signed = bytes[start + len - 1] >= 0x80;
  if (len <= MAX_EXACT_LONG_BYTES) {
    let value = 0;
    for (let i = len - 1; i >= 0; i--) value = value * 256 + bytes[start + i];
    return signed ? value - 2 ** (8 * len) : value;
  }
  // Hex keeps parsing linear in the length, unlike repeated BigInt shifts.
  let hex = '';
  for (let i = len - 1; i >= 0; i--) hex += bytes[start + i].toString(16).padStart(2, '0');
  let value = BigInt(`0x${hex}`);
  if (signed) value -= 1n << BigInt(8 * len);
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  // TextDecoder('latin1') is really windows-1252, so map code units by hand (chunked for long strings).
  const CHUNK = 0x2000;
  let out = '';
  for (let i = start; i < end; i += CHUNK) {
    out += String.fromCharCode(...bytes.subarray(i, Math.min(i + CHUNK, end)));
  }
  return out;
}

/** Why REDUCE or BUILD refused its arguments; the interpreter adds the offset. */
class Refusal extends Error {}

/** Applies an allowed global to its arguments. */
function reduce(callable: PyGlobal, args: PyValue[]): PyValue {
  switch (callable.kind) {
    case 'encode': {
      // Protocol 2 writes bytes as _codecs.encode(str, 'latin1').
      const [str, encoding] = args;
      if (args.length !== 2 || typeof str !== 'string' || encoding !== 'latin1') {
        throw new Refusal(`expected (str, 'latin1'), found ${describeArgs(args)}`);
      }
      const out = new Uint8Array(str.length);
      for (let i = 0; i < str.length; i++) {
        const code = str.charCodeAt(i);
        if (code > 0xff) throw new Refusal(`character U+${code.toString(16).padStart(4, '0')} at index ${i} is not latin1`);
        out[i] = code;
      }
      return out;
    }
    case 'dtype': {
      // numpy.dtype(descr, align, copy): only the type string matters here.
      const [descr] = args;
      if (args.length < 1 || args.length > 3 || typeof descr !== 'string') {
        throw new Refusal(`expected (str, align, copy), found ${describeArgs(args)}`);
      }
      return new NumpyDtype(descr);
    }
    case 'reconstruct': {
      // _reconstruct(ndarray, shape, typecode) makes an empty array that BUILD then fills.
      const [cls, shape, typecode] = args;
      const shapeList = shape instanceof PyTuple ? toShape(shape.items) : undefined;
      const code = typeof typecode === 'string' ? typecode : typecode instanceof Uint8Array ? latin1(typecode, 0, typecode.length) : undefined;
      if (args.length !== 3 || !(cls instanceof PyGlobal) || cls.kind !== 'ndarray' || shapeList === undefined || code === undefined) {
        throw new Refusal(`expected (numpy.ndarray, shape tuple, typecode), found ${describeArgs(args)}`);
      }
      return new NumpyArray(shapeList, new NumpyDtype(code));
    }
    case 'ndarray':
      throw new Refusal('numpy.ndarray is only accepted as the class argument of _reconstruct');
  }
}

/** numpy's dtype state: (version, byteorder, subdescr, names, fields, elsize, alignment, flags[, metadata]). */
function setDtypeState(dtype: NumpyDtype, state: PyValue): void {
  const byteOrder = state instanceof PyTuple ? state.items[1] : undefined;
  if (!(state instanceof PyTuple) || typeof byteOrder !== 'string' || !['<', '>', '|', '='].includes(byteOrder)) {
    throw new Refusal(`bad numpy.dtype state: expected a tuple with a byte order ('<', '>', '|', '=') at index 1, found ${describe(state)}`);
  }
  dtype.state = state;
  dtype.byteOrder = byteOrder;
}

/**
 * numpy's array state (see `array_setstate`): version 1 is
 * (1, shape, dtype, is_fortran, rawdata); version 0 omits the leading version.
 */
function setArrayState(array: NumpyArray, state: PyValue): void {
  if (!(state instanceof PyTuple) || (state.items.length !== 4 && state.items.length !== 5)) {
    throw new Refusal(`bad numpy.ndarray state: expected a tuple of 4 or 5 items, found ${describe(state)}`);
  }
  const items = state.items.length === 5 ? state.items : [0, ...state.items];
  const [version, shape, dtype, fortran, rawdata] = items;
  if (version !== 0 && version !== 1) throw new Refusal(`cannot handle version ${describe(version)} of numpy.ndarray pickle`);
  const shapeList = shape instanceof PyTuple ? toShape(shape.items) : undefined;
  if (shapeList === undefined) throw new Refusal(`bad numpy.ndarray shape: expected a tuple of non-negative ints, found ${describe(shape)}`);
  if (!(dtype instanceof NumpyDtype)) throw new Refusal(`bad numpy.ndarray dtype: found ${describe(dtype)}`);
  if (typeof fortran !== 'boolean' && typeof fortran !== 'number') throw new Refusal(`bad numpy.ndarray fortran flag: found ${describe(fortran)}`);

  let data: PyValue[] | Uint8Array;
  if (dtype.isObject) {
    const list = rawdata instanceof IntList ? rawdata.toArray() : rawdata;
    if (!Array.isArray(list)) throw new Refusal(`object array data must be a list, found ${describe(rawdata)}`);
    const size = shapeList.reduce((a, b) => a * b, 1);
    if (list.length !== size) throw new Refusal(`object array of shape (${shapeList.join(', ')}) holds ${list.length} elements, expected ${size}`);
    data = list;
  } else if (rawdata instanceof Uint8Array) {
    data = rawdata;
  } else if (typeof rawdata === 'string') {
    // Python 2 pickles carry raw data as a str; numpy encodes it back as latin1.
    data = Uint8Array.from(rawdata, (c) => c.charCodeAt(0) & 0xff);
  } else {
    throw new Refusal(`array data must be bytes, found ${describe(rawdata)}`);
  }
  array.shape = shapeList;
  array.dtype = dtype;
  array.fortranOrder = fortran !== false && fortran !== 0;
  array.data = data;
}

function toShape(items: PyValue[]): number[] | undefined {
  const dims: number[] = [];
  for (const d of items) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) return undefined;
    dims.push(d);
  }
  return dims;
}

/** Short description of a value for error messages (never its whole content). */
function describe(v: PyValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) return `int ${v}`;
  if (typeof v === 'number') return `float ${v}`;
  if (typeof v === 'string') return v.length <= 20 ? `str '${v}'` : `str of length ${v.length}`;
  if (v instanceof Uint8Array) return `bytes of length ${v.length}`;
  if (Array.isArray(v) || v instanceof IntList) return `list of length ${v.length}`;
  if (v instanceof PyTuple) return `tuple of length ${v.items.length}`;
  if (v instanceof PyDict) return `dict of size ${v.entries.size}`;
  if (v instanceof PyGlobal) return v.qualifiedName;
  if (v instanceof NumpyDtype) return `numpy.dtype('${v.descr}')`;
  return 'numpy.ndarray';
}

function describeArgs(args: PyValue[]): string {
  return `(${args.map(describe).join(', ')})`;
}
