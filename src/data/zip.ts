/**
 * A zip reader for `.npz` files: stored and deflated members, CRC-32 checked.
 *
 * The central directory is the authority for names, sizes and offsets, and each
 * member's local header must agree with it (name, method, CRC and sizes, as Python's
 * `zipfile` checks the name); numpy's `savez` writes local sizes of 0xFFFFFFFF with
 * the real ones in a ZIP64 extra field (`force_zip64=True`), and a member with a
 * data descriptor (flag bit 3) may leave them zero. Members may not overlap one
 * another or the central directory (Python's "Overlapped entries"), so one stream
 * cannot be read as two members. Archives that need ZIP64 in the central directory
 * (over 4 GiB or 65,535 members) and encrypted members are refused with a clear error.
 */
import { inflateSync } from 'fflate';
import { excerpt, ZipFormatError, type DataErrorDetails, type SourceContext } from './errors.js';

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_EOCD_LOCATOR_SIGNATURE = 0x07064b50;
const CENTRAL_HEADER_SIGNATURE = 0x02014b50;
const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const CENTRAL_HEADER_SIZE = 46;
const LOCAL_HEADER_SIZE = 30;
const FLAG_ENCRYPTED = 0x0001;
const FLAG_DATA_DESCRIPTOR = 0x0008;
const ZIP64_EXTRA_ID = 0x0001;
const FLAG_UTF8 = 0x0800;
const METHOD_STORED = 0;
const METHOD_DEFLATED = 8;
const ZIP64_MARKER_32 = 0xffffffff;
const ZIP64_MARKER_16 = 0xffff;
/**
 * Deflate's ceiling: a 2-bit length/distance pair copies at most 258 bytes, so a
 * byte of stream inflates to at most 1,032. A declared size above it cannot be
 * true, and is refused before a buffer of that size is allocated.
 */
const MAX_DEFLATE_RATIO = 1032;

export interface ZipEntry {
  name: string;
  method: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  /** Offset of the member's local header in the archive. */
  localHeaderOffset: number;
  /** Where its (compressed) data starts, after the local header; set once the local header is checked. */
  dataOffset: number;
}

/**
 * Node's zlib, reached without an import so this module still bundles for the
 * browser; it inflates several times faster than fflate, which is the fallback.
 */
const nodeZlib = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.(
  'node:zlib',
) as typeof import('node:zlib') | undefined;

export type Inflater = 'native' | 'fflate';

export class ZipArchive {
  readonly entries: ReadonlyMap<string, ZipEntry>;

  private constructor(
    private readonly bytes: Uint8Array,
    private readonly file: string | undefined,
    entries: Map<string, ZipEntry>,
    private readonly inflater: Inflater,
  ) {
    this.entries = entries;
  }

  /**
   * Parse the central directory of `bytes`; `file` names the archive in errors.
   * `inflater` 'native' (the default, where there is one) uses Node's zlib.
   */
  static open(bytes: Uint8Array, file?: string, inflater: Inflater = nodeZlib ? 'native' : 'fflate'): ZipArchive {
    if (inflater === 'native' && !nodeZlib) throw new Error('no native zlib here: use the fflate inflater');
    return new ZipArchive(bytes, file, readCentralDirectory(bytes, file), inflater);
  }

  get names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /**
   * The member's uncompressed bytes, CRC-checked. `maxBytes` refuses a member declaring
   * more (a caller that knows what a valid member can hold), before inflating anything.
   */
  read(name: string, maxBytes = Infinity): Uint8Array {
    const entry = this.entries.get(name);
    if (!entry) {
      throw new ZipFormatError('missing member', {
        file: this.file,
        member: name,
        expected: `one of ${this.names.join(', ') || '(no members)'}`,
        found: 'no such member',
      });
    }
    const ctx = { file: this.file, member: name };
    const start = entry.dataOffset;
    const end = start + entry.compressedSize;
    checkDeclaredSize(entry, { ...ctx, offset: start });
    if (entry.uncompressedSize > maxBytes) {
      throw new ZipFormatError('member declares more bytes than a valid one can hold', {
        ...ctx,
        offset: start,
        expected: `at most ${maxBytes} bytes`,
        found: `${entry.uncompressedSize} bytes`,
      });
    }
    const raw = this.bytes.subarray(start, end);
    const data = entry.method === METHOD_STORED ? raw : inflateMember(raw, entry, ctx, start, this.inflater);
    const crc = crc32(data);
    if (crc !== entry.crc32) {
      throw new ZipFormatError('CRC-32 mismatch: the member is corrupt', {
        ...ctx,
        offset: start,
        expected: hex32(entry.crc32),
        found: hex32(crc),
      });
    }
    return data;
  }
}

function readCentralDirectory(bytes: Uint8Array, file?: string): Map<string, ZipEntry> {
  const eocd = findEndOfCentralDirectory(bytes, file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint16(eocd + 10, true);
  const dirSize = view.getUint32(eocd + 12, true);
  const dirOffset = view.getUint32(eocd + 16, true);
  const zip64Locator = eocd >= 20 && view.getUint32(eocd - 20, true) === ZIP64_EOCD_LOCATOR_SIGNATURE;
  if (zip64Locator || count === ZIP64_MARKER_16 || dirSize === ZIP64_MARKER_32 || dirOffset === ZIP64_MARKER_32) {
    throw new ZipFormatError('ZIP64 archives are not supported (archive over 4 GiB or 65,535 members)', {
      file,
      offset: eocd,
    });
  }
  if (dirOffset + dirSize > eocd) {
    throw new ZipFormatError('central directory runs past its end record (truncated or corrupt file)', {
      file,
      offset: eocd,
      expected: `directory within the first ${eocd} bytes`,
      found: `bytes ${dirOffset}..${dirOffset + dirSize}`,
    });
  }

  const entries = new Map<string, ZipEntry>();
  const rawNames = new Map<ZipEntry, Uint8Array>();
  let p = dirOffset;
  for (let i = 0; i < count; i++) {
    if (p + CENTRAL_HEADER_SIZE > dirOffset + dirSize || view.getUint32(p, true) !== CENTRAL_HEADER_SIGNATURE) {
      throw new ZipFormatError(`central directory entry ${i} of ${count} is missing or corrupt`, {
        file,
        offset: p,
        expected: 'signature PK\\1\\2',
        found: p + 4 <= bytes.length ? hex32(view.getUint32(p, true)) : 'end of file',
      });
    }
    const flags = view.getUint16(p + 8, true);
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    const name = decodeName(bytes.subarray(p + CENTRAL_HEADER_SIZE, p + CENTRAL_HEADER_SIZE + nameLength), flags);
    const entry: ZipEntry = {
      name,
      method: view.getUint16(p + 10, true),
      crc32: view.getUint32(p + 16, true),
      compressedSize: view.getUint32(p + 20, true),
      uncompressedSize: view.getUint32(p + 24, true),
      localHeaderOffset: view.getUint32(p + 42, true),
      dataOffset: -1,
    };
    const ctx = { file, member: name, offset: p };
    if (flags & FLAG_ENCRYPTED) {
      throw new ZipFormatError('encrypted members are not supported', ctx);
    }
    if (
      entry.compressedSize === ZIP64_MARKER_32 ||
      entry.uncompressedSize === ZIP64_MARKER_32 ||
      entry.localHeaderOffset === ZIP64_MARKER_32
    ) {
      throw new ZipFormatError('ZIP64 members are not supported (member or archive over 4 GiB)', ctx);
    }
    if (entry.method !== METHOD_STORED && entry.method !== METHOD_DEFLATED) {
      throw new ZipFormatError('unsupported compression method', {
        ...ctx,
        expected: '0 (stored) or 8 (deflated)',
        found: String(entry.method),
      });
    }
    if (entries.has(name)) {
      throw new ZipFormatError('duplicate member name', ctx);
    }
    entries.set(name, entry);
    rawNames.set(entry, bytes.subarray(p + CENTRAL_HEADER_SIZE, p + CENTRAL_HEADER_SIZE + nameLength));
    p += CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength;
  }
  for (const entry of entries.values()) entry.dataOffset = checkLocalHeader(bytes, entry, rawNames.get(entry)!, { file, member: entry.name });
  refuseOverlaps([...entries.values()], dirOffset, bytes.length, file);
  return entries;
}

/** Members in archive order must each end before the next begins, and the last before the central directory. */
function refuseOverlaps(entries: ZipEntry[], dirOffset: number, fileLength: number, file?: string): void {
  const ordered = entries.sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
  ordered.forEach((entry, i) => {
    const end = entry.dataOffset + entry.compressedSize;
    const ctx = { file, member: entry.name, offset: entry.dataOffset };
    if (end > fileLength) {
      throw new ZipFormatError('member data runs past the end of the archive (truncated file?)', {
        ...ctx,
        expected: `${entry.compressedSize} bytes of data`,
        found: `${fileLength - entry.dataOffset} bytes`,
      });
    }
    const next = ordered[i + 1];
    const limit = next ? next.localHeaderOffset : dirOffset;
    if (end > limit) {
      throw new ZipFormatError(`member overlaps ${next ? `member '${excerpt(next.name, 100)}'` : 'the central directory'} (Python's zipfile refuses overlapped entries)`, {
        ...ctx,
        expected: `data ending by byte ${limit}`,
        found: `data ending at byte ${end}`,
      });
    }
  });
}

function findEndOfCentralDirectory(bytes: Uint8Array, file?: string): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lowest = Math.max(0, bytes.length - EOCD_SIZE - MAX_COMMENT);
  for (let p = bytes.length - EOCD_SIZE; p >= lowest; p--) {
    if (view.getUint32(p, true) === EOCD_SIGNATURE) return p;
  }
  throw new ZipFormatError('not a zip archive, or truncated: no end-of-central-directory record', {
    file,
    offset: Math.max(0, bytes.length - EOCD_SIZE),
    expected: 'signature PK\\5\\6 in the last 65,557 bytes',
    found: bytes.length < EOCD_SIZE ? `a ${bytes.length}-byte file` : 'none',
  });
}

/**
 * Checks the member's local header against its central directory entry (name, method,
 * CRC and sizes) and returns where its data begins, after the header, name and extra field.
 */
function checkLocalHeader(bytes: Uint8Array, entry: ZipEntry, rawName: Uint8Array, ctx: SourceContext): number {
  const p = entry.localHeaderOffset;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (p + LOCAL_HEADER_SIZE > bytes.length || view.getUint32(p, true) !== LOCAL_HEADER_SIGNATURE) {
    throw new ZipFormatError('local header is missing or corrupt', {
      ...ctx,
      offset: p,
      expected: 'signature PK\\3\\4',
      found: p + 4 <= bytes.length ? hex32(view.getUint32(p, true)) : 'end of file',
    });
  }
  const flags = view.getUint16(p + 6, true);
  if (flags & FLAG_ENCRYPTED) {
    throw new ZipFormatError('encrypted members are not supported', { ...ctx, offset: p });
  }
  const nameLength = view.getUint16(p + 26, true);
  const extraLength = view.getUint16(p + 28, true);
  const nameStart = p + LOCAL_HEADER_SIZE;
  const start = nameStart + nameLength + extraLength;
  if (start > bytes.length) {
    throw new ZipFormatError('local header runs past the end of the archive (truncated file?)', { ...ctx, offset: p });
  }
  const disagree = (field: string, central: string, local: string) =>
    new ZipFormatError(`local header disagrees with the central directory on the ${field}`, { ...ctx, offset: p, expected: central, found: local });
  const localName = bytes.subarray(nameStart, nameStart + nameLength);
  if (localName.length !== rawName.length || localName.some((b, i) => b !== rawName[i])) {
    throw disagree('name', `'${entry.name}'`, `'${decodeName(localName.subarray(0, 200), flags)}'`);
  }
  const method = view.getUint16(p + 8, true);
  if (method !== entry.method) throw disagree('compression method', String(entry.method), String(method));
  // With a data descriptor the local CRC and sizes may be left zero; otherwise they must be the central ones.
  const deferred = (flags & FLAG_DATA_DESCRIPTOR) !== 0;
  const crc = view.getUint32(p + 14, true);
  if (!(deferred && crc === 0) && crc !== entry.crc32) throw disagree('CRC-32', hex32(entry.crc32), hex32(crc));
  let compressed = view.getUint32(p + 18, true);
  let uncompressed = view.getUint32(p + 22, true);
  if (compressed === ZIP64_MARKER_32 || uncompressed === ZIP64_MARKER_32) {
    const zip64 = zip64Sizes(view, nameStart + nameLength, extraLength);
    if (!zip64) throw disagree('sizes', 'sizes or a ZIP64 extra field', 'ZIP64 markers without the field');
    // A local ZIP64 field holds both sizes, uncompressed first (APPNOTE 4.5.3).
    if (uncompressed === ZIP64_MARKER_32) uncompressed = zip64[0] ?? -1;
    if (compressed === ZIP64_MARKER_32) compressed = zip64[1] ?? -1;
  }
  if (!(deferred && compressed === 0 && uncompressed === 0) && (compressed !== entry.compressedSize || uncompressed !== entry.uncompressedSize)) {
    throw disagree('sizes', `${entry.compressedSize} compressed, ${entry.uncompressedSize} uncompressed`, `${compressed} compressed, ${uncompressed} uncompressed`);
  }
  return start;
}

/** The 8-byte sizes of a local header's ZIP64 extra field (uncompressed first), or null without one. */
function zip64Sizes(view: DataView, at: number, length: number): number[] | null {
  for (let p = at; p + 4 <= at + length; ) {
    const id = view.getUint16(p, true);
    const size = view.getUint16(p + 2, true);
    if (p + 4 + size > at + length) return null;
    if (id === ZIP64_EXTRA_ID) {
      const sizes: number[] = [];
      for (let q = p + 4; q + 8 <= p + 4 + size; q += 8) sizes.push(view.getUint32(q, true) + view.getUint32(q + 4, true) * 2 ** 32);
      return sizes;
    }
    p += 4 + size;
  }
  return null;
}

/** Refuses an uncompressed size that the member's stream cannot hold, before anything is allocated for it. */
function checkDeclaredSize(entry: ZipEntry, ctx: DataErrorDetails): void {
  if (entry.method === METHOD_STORED && entry.uncompressedSize !== entry.compressedSize) {
    throw new ZipFormatError('stored member declares an uncompressed size other than its stored size', {
      ...ctx,
      expected: `${entry.compressedSize} bytes (its stored size)`,
      found: `${entry.uncompressedSize} bytes`,
    });
  }
  if (entry.method === METHOD_DEFLATED && entry.uncompressedSize > entry.compressedSize * MAX_DEFLATE_RATIO) {
    throw new ZipFormatError('declared uncompressed size is beyond what the deflate stream can hold (corrupt header or zip bomb)', {
      ...ctx,
      expected: `at most ${entry.compressedSize * MAX_DEFLATE_RATIO} bytes from ${entry.compressedSize} bytes of deflate stream`,
      found: `${entry.uncompressedSize} bytes`,
    });
  }
}

function inflateMember(raw: Uint8Array, entry: ZipEntry, ctx: SourceContext, offset: number, inflater: Inflater): Uint8Array {
  // Room for one byte more than declared: a stream that fills it inflates past its declared size.
  const limit = entry.uncompressedSize + 1;
  let inflated = tryInflate(raw, limit, inflater);
  // zlib refuses some streams whose Huffman tables are malformed only in codes the data
  // never uses ('invalid distances set', found by fuzzing); fflate, the browser's inflater,
  // decodes them. The bytes are judged by their size and CRC-32 either way, so Node tries
  // fflate before calling the stream corrupt: a file loads in Node exactly when it does in a browser.
  if (inflated instanceof Error && inflater === 'native') {
    const lenient = tryInflate(raw, limit, 'fflate');
    if (!(lenient instanceof Error)) inflated = lenient;
  }
  if (inflated instanceof Error) throw new ZipFormatError(`deflate stream is corrupt: ${inflated.message}`, { ...ctx, offset });
  if (inflated === 'more' || inflated.length !== entry.uncompressedSize) {
    throw new ZipFormatError('member inflates to a size other than the one declared', {
      ...ctx,
      offset,
      expected: `${entry.uncompressedSize} bytes`,
      found: inflated === 'more' || inflated.length > entry.uncompressedSize ? 'more' : `${inflated.length} bytes`,
    });
  }
  return inflated;
}

/** Inflates into at most `limit` bytes: the bytes, 'more' if the stream holds more, or the inflater's error. */
function tryInflate(raw: Uint8Array, limit: number, inflater: Inflater): Uint8Array | 'more' | Error {
  try {
    if (inflater === 'native') {
      // One chunk of the declared size: zlib then returns it without concatenating pieces.
      const buffer = nodeZlib!.inflateRawSync(raw, { maxOutputLength: limit, chunkSize: Math.max(64, limit) });
      return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    }
    return inflateSync(raw, { out: new Uint8Array(limit) });
  } catch (cause) {
    // zlib stops at maxOutputLength: the stream holds more than declared.
    if ((cause as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return 'more';
    return cause instanceof Error ? cause : new Error(String(cause));
  }
}

function decodeName(raw: Uint8Array, flags: number): string {
  // Without the UTF-8 flag the name is CP437; npz member names are ASCII either way.
  if (flags & FLAG_UTF8) return new TextDecoder().decode(raw);
  // A loop, not a spread: 65,535 arguments can overflow the stack of a deep caller.
  let name = '';
  for (let i = 0; i < raw.length; i++) name += String.fromCharCode(raw[i]);
  return name;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  // Slicing-by-8 tables: eight bytes per step instead of one.
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) table[k * 256 + n] = (table[(k - 1) * 256 + n] >>> 8) ^ table[table[(k - 1) * 256 + n] & 0xff];
  }
  return table;
})();

/** Node's zlib.crc32 (native; about ten times the table's speed), where the runtime has it (Node >= 20.16). */
const nativeCrc32 = (globalThis as { process?: { getBuiltinModule?: (id: string) => { crc32?: (data: Uint8Array, value?: number) => number } } }).process?.getBuiltinModule?.('node:zlib')?.crc32;

/**
 * CRC-32 (IEEE 802.3), as zip stores it. `previous` continues a CRC over
 * several pieces: crc32(b, crc32(a)) is the CRC of a then b (zlib's chaining).
 * Node's native zlib.crc32 where there is one, else the table (crc32Table).
 */
export function crc32(data: Uint8Array, previous = 0): number {
  return nativeCrc32 ? nativeCrc32(data, previous) : crc32Table(data, previous);
}

/** crc32 in TypeScript, slicing by 8: what a browser runs (and tests compare with zlib's). */
export function crc32Table(data: Uint8Array, previous = 0): number {
  const t = CRC_TABLE;
  let crc = (previous ^ 0xffffffff) >>> 0;
  let i = 0;
  const end8 = data.length - (data.length % 8);
  for (; i < end8; i += 8) {
    const lo = (crc ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24))) >>> 0;
    crc =
      t[1792 + (lo & 0xff)] ^
      t[1536 + ((lo >>> 8) & 0xff)] ^
      t[1280 + ((lo >>> 16) & 0xff)] ^
      t[1024 + (lo >>> 24)] ^
      t[768 + data[i + 4]] ^
      t[512 + data[i + 5]] ^
      t[256 + data[i + 6]] ^
      t[data[i + 7]];
  }
  for (; i < data.length; i++) crc = t[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}
