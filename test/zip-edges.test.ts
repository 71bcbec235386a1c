/**
 * The zip reader's edges that StrykerJS found untested (README, "Mutation testing"): each field of
 * the end record, central directory and local header at and past its bounds, the ZIP64 extra
 * field's layouts, the order of members, the inflaters' errors, names in CP437 and UTF-8, and what
 * each error names. Archives are written byte by byte here, so any field can be made wrong.
 */
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import { ZipFormatError } from '../src/data/errors.js';
import { crc32, ZipArchive } from '../src/data/zip.js';
import { expectDataError } from './helpers.js';

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const u16 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff];
const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const u64 = (v: number): number[] => [...u32(v >>> 0), ...u32(Math.floor(v / 2 ** 32))];
const cat = (...parts: (Uint8Array | number[])[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => Array.from(p)));

interface Member {
  name: string | Uint8Array;
  data: Uint8Array;
  method?: 0 | 8;
  /** The stream stored instead of `data` deflated (or `data` itself, stored). */
  stream?: Uint8Array;
  /** Flags of both headers, or of one. */
  flags?: number;
  localFlags?: number;
  /** Local header fields, where they differ from the central ones. */
  local?: { name?: Uint8Array; crc?: number; compressed?: number; uncompressed?: number; extra?: Uint8Array };
  /** Central header fields, where they differ from the truth. */
  central?: { crc?: number; compressed?: number; uncompressed?: number; offset?: number; extra?: Uint8Array; comment?: Uint8Array };
}

interface Layout {
  /** Central entries in this order of the members (default: archive order). */
  order?: number[];
  count?: number;
  dirSize?: number;
  dirOffset?: number;
  comment?: Uint8Array;
  /** Bytes written before the first member. */
  prefix?: Uint8Array;
}

/** A zip of `members`, every field as the options say (by default a plain valid archive). */
function zip(members: Member[], layout: Layout = {}): Uint8Array {
  const locals: number[] = [];
  const centrals: number[][] = [];
  const prefix = layout.prefix ?? new Uint8Array(0);
  locals.push(...prefix);
  for (const m of members) {
    const name = typeof m.name === 'string' ? ascii(m.name) : m.name;
    const method = m.method ?? 0;
    const stream = m.stream ?? (method === 8 ? new Uint8Array(deflateRawSync(m.data)) : m.data);
    const crc = crc32(m.data);
    const offset = locals.length;
    const l = m.local ?? {};
    const localName = l.name ?? name;
    const extra = l.extra ?? new Uint8Array(0);
    locals.push(...u32(0x04034b50), ...u16(20), ...u16(m.localFlags ?? m.flags ?? 0), ...u16(method), ...u16(0), ...u16(0));
    locals.push(...u32(l.crc ?? crc), ...u32(l.compressed ?? stream.length), ...u32(l.uncompressed ?? m.data.length));
    locals.push(...u16(localName.length), ...u16(extra.length), ...localName, ...extra, ...stream);
    const c = m.central ?? {};
    const cExtra = c.extra ?? new Uint8Array(0);
    const cComment = c.comment ?? new Uint8Array(0);
    centrals.push([
      ...u32(0x02014b50), ...u16(20), ...u16(20), ...u16(m.flags ?? 0), ...u16(method), ...u16(0), ...u16(0),
      ...u32(c.crc ?? crc), ...u32(c.compressed ?? stream.length), ...u32(c.uncompressed ?? m.data.length),
      ...u16(name.length), ...u16(cExtra.length), ...u16(cComment.length), ...u16(0), ...u16(0), ...u32(0),
      ...u32(c.offset ?? offset), ...name, ...cExtra, ...cComment,
    ]);
  }
  const dirOffset = locals.length;
  const dir = (layout.order ?? members.map((_, i) => i)).flatMap((i) => centrals[i]);
  const comment = layout.comment ?? new Uint8Array(0);
  const count = layout.count ?? members.length;
  return cat(locals, dir, u32(0x06054b50), u16(0), u16(0), u16(count), u16(count), u32(layout.dirSize ?? dir.length), u32(layout.dirOffset ?? dirOffset), u16(comment.length), comment);
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const DATA = text('numpy writes this');
const open = (bytes: Uint8Array, inflater?: 'native' | 'fflate') => ZipArchive.open(bytes, 'a.npz', inflater);
/** The error's fields, and `problem`: its message without the file, member and offset. */
type Details = NonNullable<Parameters<typeof expectDataError>[2]> & { problem?: string | RegExp };
function zipError(fn: () => unknown, { problem, ...details }: Details): void {
  const error = expectDataError(fn, ZipFormatError, details);
  if (problem instanceof RegExp) expect(error.problem).toMatch(problem);
  else if (problem !== undefined) expect(error.problem).toBe(problem);
}
const refused = (bytes: Uint8Array, details: Details) => zipError(() => open(bytes), details);
const refusedRead = (bytes: Uint8Array, member: string, details: Details, inflater?: 'native' | 'fflate') => zipError(() => open(bytes, inflater).read(member), details);

describe('the end record', () => {
  it('a 65,535-byte comment, the longest there is, still finds the record at the lowest place it can be', () => {
    const bytes = zip([{ name: 'a', data: DATA }], { comment: new Uint8Array(0xffff).fill(0x20) });
    expect(open(bytes).read('a')).toEqual(DATA);
  });

  it('no record: the error names the last place one could start and what the file is', () => {
    const junk = new Uint8Array(100).fill(7);
    refused(junk, { problem: /no end-of-central-directory record/, offset: 78, expected: 'signature PK\\5\\6 in the last 65,557 bytes', found: 'none' });
    refused(junk.subarray(0, 22), { offset: 0, found: 'none' });
    refused(junk.subarray(0, 21), { offset: 0, found: 'a 21-byte file' });
  });

  it('an archive with no members opens, and reading from it says there are none', () => {
    const empty = zip([]);
    expect(empty.length).toBe(22);
    const archive = open(empty);
    expect(archive.names).toEqual([]);
    zipError(() => archive.read('x.npy'), { problem: /missing member/, member: 'x.npy', expected: 'one of (no members)', found: 'no such member' });
  });

  it('a missing member: the error lists those there are', () => {
    const archive = open(zip([{ name: 'a', data: DATA }, { name: 'b', data: DATA }]));
    zipError(() => archive.read('c'), { problem: /^missing member/, member: 'c', expected: 'one of a, b', found: 'no such member' });
  });

  it('a ZIP64 locator just before the record, at offset 20 or later, or a member count, directory size or directory offset of all ones, is ZIP64', () => {
    const locator = cat(u32(0x07064b50), new Uint8Array(16));
    // The locator at byte 0 and the end record at byte 20: the earliest a locator can sit.
    refused(cat(locator, zip([])), { problem: /ZIP64 archives are not supported/, offset: 20 });
    const plain = zip([{ name: 'a', data: DATA }]);
    const eocd = plain.length - 22;
    refused(cat(plain.subarray(0, eocd), locator, plain.subarray(eocd)), { problem: /ZIP64 archives/, offset: eocd + 20 });
    refused(zip([], { count: 0xffff }), { problem: /ZIP64 archives/ });
    refused(zip([], { dirOffset: 0xffffffff }), { problem: /ZIP64 archives/ });
    refused(zip([], { dirSize: 0xffffffff }), { problem: /ZIP64 archives/ });
  });

  it('a directory running past the end record names its bytes', () => {
    const bytes = zip([{ name: 'a', data: DATA }]);
    const eocd = bytes.length - 22;
    const dirOffset = 30 + 1 + DATA.length;
    const dirSize = eocd - dirOffset;
    refused(zip([{ name: 'a', data: DATA }], { dirSize: dirSize + 1 }), {
      problem: /central directory runs past its end record/,
      offset: eocd,
      expected: `directory within the first ${eocd} bytes`,
      found: `bytes ${dirOffset}..${eocd + 1}`,
    });
  });
});

describe('the central directory', () => {
  it('an entry must fit in the directory the end record declares: a second entry past its size is not read', () => {
    const two = [{ name: 'a', data: DATA }, { name: 'b', data: DATA }];
    const full = zip(two);
    const oneEntry = 46 + 1;
    const dirOffset = 2 * (30 + 1 + DATA.length);
    refused(zip(two, { dirSize: oneEntry }), { problem: /central directory entry 1 of 2 is missing or corrupt/, offset: dirOffset + oneEntry, expected: 'signature PK\\1\\2', found: '0x02014b50' });
    expect(open(full).names).toEqual(['a', 'b']);
  });

  it("an entry's fixed 46 bytes may end exactly where the directory does (the name is not checked against its size)", () => {
    expect(open(zip([{ name: 'a', data: DATA }], { dirSize: 46 })).names).toEqual(['a']);
  });

  it('an entry past the end of the file, or whose signature is the last 4 bytes, says what was found there', () => {
    // One entry and a count of 2: the first entry's comment length sends the second where the test wants it.
    const tail = (commentLength: number) => {
      const bytes = zip([{ name: 'a', data: DATA }], { count: 2 });
      const view = new DataView(bytes.buffer);
      const dirOffset = 30 + 1 + DATA.length;
      view.setUint16(dirOffset + 32, commentLength, true);
      view.setUint32(bytes.length - 10, bytes.length - 22 - dirOffset, true); // the directory runs to the end record
      return { bytes, next: dirOffset + 46 + 1 + commentLength };
    };
    const past = tail(1000);
    refused(past.bytes, { problem: /central directory entry 1 of 2/, offset: past.next, found: 'end of file' });
    const len = tail(0).bytes.length;
    // The second entry's offset at the file's last 4 bytes (the end record's last field and comment length).
    const last4 = tail(len - 4 - (30 + 1 + DATA.length + 46 + 1));
    expect(last4.next).toBe(len - 4);
    const view = new DataView(last4.bytes.buffer);
    refused(last4.bytes, { offset: len - 4, found: `0x${view.getUint32(len - 4, true).toString(16).padStart(8, '0')}` });
    const last3 = tail(len - 3 - (30 + 1 + DATA.length + 46 + 1));
    refused(last3.bytes, { offset: len - 3, found: 'end of file' });
  });

  it('extra fields and comments in the directory are skipped by their little-endian lengths', () => {
    const members = [
      { name: 'a', data: DATA, central: { extra: cat(u16(0x5455), u16(1), [9]), comment: text('one') } },
      { name: 'b', data: text('second'), central: { extra: cat(u16(0x7875), u16(3), [1, 2, 3]), comment: text('two!!') } },
    ];
    const archive = open(zip(members));
    expect(archive.names).toEqual(['a', 'b']);
    expect(archive.read('b')).toEqual(text('second'));
  });

  it('ZIP64 members (a size or offset of all ones) are refused', () => {
    refused(zip([{ name: 'a', data: DATA, central: { uncompressed: 0xffffffff } }]), { problem: /ZIP64 members are not supported/, member: 'a' });
    refused(zip([{ name: 'a', data: DATA, central: { compressed: 0xffffffff } }]), { problem: /ZIP64 members are not supported/ });
    refused(zip([{ name: 'a', data: DATA, central: { offset: 0xffffffff } }]), { problem: /ZIP64 members are not supported/ });
  });

  it('an unknown method names the two there are', () => {
    const bytes = zip([{ name: 'a', data: DATA }]);
    new DataView(bytes.buffer).setUint16(30 + 1 + DATA.length + 10, 12, true);
    refused(bytes, { problem: /unsupported compression method/, expected: '0 (stored) or 8 (deflated)', found: '12' });
  });

  it('two entries of one name are refused', () => {
    refused(zip([{ name: 'a', data: DATA }, { name: 'a', data: DATA }]), { problem: /^duplicate member name/, member: 'a', offset: 2 * (31 + DATA.length) + 47 });
  });

  it('names are CP437 bytes one by one, or UTF-8 with the flag', () => {
    const e = Uint8Array.from([0xc3, 0xa9]);
    expect(open(zip([{ name: e, data: DATA }])).names).toEqual(['\u00c3\u00a9']);
    expect(open(zip([{ name: e, data: DATA, flags: 0x0800 }])).names).toEqual(['\u00e9']);
  });

  it('members listed out of archive order are checked in archive order', () => {
    const members = [0, 1, 2].map((i) => ({ name: `m${i}`, data: text(`member ${i} `.repeat(i + 1)) }));
    for (const order of [[2, 1, 0], [1, 2, 0], [2, 0, 1]]) {
      const archive = open(zip(members, { order }));
      expect(archive.names).toEqual(order.map((i) => `m${i}`));
      for (const i of order) expect(archive.read(`m${i}`)).toEqual(members[i].data);
    }
  });
});

describe('local headers', () => {
  /** A valid archive with a local header as the last 30 + `extra` bytes of the file, in the end record's comment. */
  function headerAtEnd(localFields: { compressed: number; uncompressed: number; extra?: Uint8Array }) {
    const extra = localFields.extra ?? new Uint8Array(0);
    const local = cat(u32(0x04034b50), u16(20), u16(0), u16(0), u16(0), u16(0), u32(0), u32(localFields.compressed), u32(localFields.uncompressed), u16(0), u16(extra.length), extra);
    // One member named '' (so the local name, empty, agrees), stored, empty, its local header in the comment.
    const base = zip([{ name: '', data: new Uint8Array(0) }]);
    const eocd = base.length - 22;
    const bytes = cat(base.subarray(0, eocd + 20), u16(local.length), local);
    new DataView(bytes.buffer).setUint32(30 + 42, eocd + 22, true); // central offset -> the comment
    return { bytes, at: eocd + 22 };
  }

  it('a header that is the last 30 bytes of the file is read (and its member then overlaps the directory)', () => {
    const { bytes } = headerAtEnd({ compressed: 0, uncompressed: 0 });
    refused(bytes, { problem: /member overlaps the central directory/ });
  });

  it('a header cut short, or its signature cut short, is missing', () => {
    const base = zip([{ name: 'a', data: DATA }], { comment: cat(u32(0x04034b50), new Uint8Array(20)) });
    const setOffset = (offset: number) => {
      const bytes = base.slice();
      new DataView(bytes.buffer).setUint32(31 + DATA.length + 42, offset, true);
      return bytes;
    };
    const sig = base.length - 24;
    refused(setOffset(sig), { problem: /local header is missing or corrupt/, offset: sig, expected: 'signature PK\\3\\4', found: '0x04034b50' });
    const last4 = base.length - 4;
    refused(setOffset(last4), { problem: /local header is missing/, found: `0x${new DataView(base.buffer).getUint32(last4, true).toString(16).padStart(8, '0')}` });
    refused(setOffset(base.length - 3), { problem: /local header is missing/, offset: base.length - 3, found: 'end of file' });
  });

  it('an encrypted flag in the local header alone is refused there', () => {
    refused(zip([{ name: 'a', data: DATA, localFlags: 1 }]), { problem: /^encrypted members are not supported/, member: 'a', offset: 0 });
  });

  it('a local name and extra field running past the file are refused', () => {
    const bytes = zip([{ name: 'a', data: DATA }]);
    new DataView(bytes.buffer).setUint16(28, 0xffff, true);
    refused(bytes, { problem: /^local header runs past the end of the archive/, member: 'a', offset: 0 });
  });

  it('a local name that is a prefix of the central one disagrees', () => {
    refused(zip([{ name: 'ab', data: DATA, local: { name: ascii('a') } }]), { problem: /disagrees with the central directory on the name/, expected: "'ab'", found: "'a'" });
  });

  it('a zero CRC is accepted only with a data descriptor, and a wrong one never', () => {
    const crc = crc32(DATA);
    const hex = (v: number) => `0x${v.toString(16).padStart(8, '0')}`;
    refused(zip([{ name: 'a', data: DATA, local: { crc: 0 } }]), { problem: /on the CRC-32/, expected: hex(crc), found: '0x00000000' });
    expect(open(zip([{ name: 'a', data: DATA, flags: 8, local: { crc: 0 } }])).read('a')).toEqual(DATA);
    refused(zip([{ name: 'a', data: DATA, flags: 8, local: { crc: (crc ^ 1) >>> 0 } }]), { problem: /on the CRC-32/, found: hex((crc ^ 1) >>> 0) });
  });

  it('zero local sizes are accepted only with a data descriptor, and both must be zero', () => {
    const n = DATA.length;
    const sizes = (compressed: number, uncompressed: number, flags = 0) => zip([{ name: 'a', data: DATA, flags, local: { compressed, uncompressed } }]);
    const wrong = (found: string) => ({ problem: /on the sizes/, expected: `${n} compressed, ${n} uncompressed`, found });
    refused(sizes(0, 0), wrong('0 compressed, 0 uncompressed'));
    refused(sizes(n, 0), wrong(`${n} compressed, 0 uncompressed`));
    refused(sizes(n + 1, n), wrong(`${n + 1} compressed, ${n} uncompressed`));
    expect(open(sizes(0, 0, 8)).read('a')).toEqual(DATA);
    refused(sizes(n + 1, 0, 8), wrong(`${n + 1} compressed, 0 uncompressed`));
    refused(sizes(0, n + 1, 8), wrong(`0 compressed, ${n + 1} uncompressed`));
  });
});

describe('the local ZIP64 extra field', () => {
  const n = DATA.length;
  const field = (id: number, body: number[]) => cat(u16(id), u16(body.length), body);
  const member = (compressed: number, uncompressed: number, extra: Uint8Array) => zip([{ name: 'a', data: DATA, local: { compressed, uncompressed, extra } }]);
  const M = 0xffffffff;

  it('either size alone may be a marker: its value comes from the field, uncompressed first, and the other stays', () => {
    // The field's other value is wrong on purpose: only the marked size may be read from it.
    expect(open(member(M, n, field(1, [...u64(n + 5), ...u64(n)]))).read('a')).toEqual(DATA);
    expect(open(member(n, M, field(1, [...u64(n), ...u64(n + 5)]))).read('a')).toEqual(DATA);
  });

  it('the field is found after others', () => {
    expect(open(member(M, M, cat(field(0x5455, [1, 2, 3, 4, 5]), field(1, [...u64(n), ...u64(n)])))).read('a')).toEqual(DATA);
  });

  it('markers without the field, or with a field that runs past the extra area, are refused', () => {
    const without = { problem: /on the sizes/, expected: 'sizes or a ZIP64 extra field', found: 'ZIP64 markers without the field' };
    refused(member(M, M, new Uint8Array(0)), without);
    refused(member(M, M, field(0x5455, [1, 2])), without);
    // A field declaring 8 bytes with 4 there; a field declaring 16 with 8 there.
    refused(member(M, M, cat(u16(1), u16(8), [1, 2, 3, 4])), without);
    refused(member(M, M, cat(u16(1), u16(16), u64(n))), without);
  });

  it('a field too short for a marked size gives -1, which no member has', () => {
    refused(member(M, M, field(1, [])), { problem: /on the sizes/, found: '-1 compressed, -1 uncompressed' });
    refused(member(M, M, field(1, u64(n))), { problem: /on the sizes/, found: `-1 compressed, ${n} uncompressed` });
  });

  it('sizes past 32 bits are read whole, high word little-endian', () => {
    refused(member(M, M, field(1, [...u64(2 ** 32 + n), ...u64(n)])), { problem: /on the sizes/, found: `${n} compressed, ${2 ** 32 + n} uncompressed` });
  });

  it('a field that ends the file is read without reading past it', () => {
    const extra = field(1, [...u64(0), ...u64(0)]);
    const local = cat(u32(0x04034b50), u16(20), u16(0), u16(0), u16(0), u16(0), u32(0), u32(M), u32(M), u16(0), u16(extra.length), extra);
    const base = zip([{ name: '', data: new Uint8Array(0) }]);
    const eocd = base.length - 22;
    const bytes = cat(base.subarray(0, eocd + 20), u16(local.length), local);
    new DataView(bytes.buffer).setUint32(30 + 42, eocd + 22, true);
    refused(bytes, { problem: /member overlaps the central directory/ });
    const foreign = field(0x5455, [1, 2]);
    const local2 = cat(u32(0x04034b50), u16(20), u16(0), u16(0), u16(0), u16(0), u32(0), u32(M), u32(M), u16(0), u16(foreign.length), foreign);
    const bytes2 = cat(base.subarray(0, eocd + 20), u16(local2.length), local2);
    new DataView(bytes2.buffer).setUint32(30 + 42, eocd + 22, true);
    refused(bytes2, { problem: /on the sizes/, found: 'ZIP64 markers without the field' });
  });
});

describe('member bounds', () => {
  it('data running past the end of the file is named as such', () => {
    const bytes = zip([{ name: 'a', data: DATA, central: { compressed: 5000, uncompressed: 5000 }, local: { compressed: 5000, uncompressed: 5000 } }]);
    refused(bytes, { problem: /^member data runs past the end of the archive/, member: 'a', offset: 31, expected: '5000 bytes of data', found: `${bytes.length - 31} bytes` });
  });

  it('data ending exactly at the end of the file overlaps the directory before it', () => {
    const base = zip([{ name: 'a', data: DATA }]);
    const size = base.length - 31;
    const bytes = zip([{ name: 'a', data: DATA, central: { compressed: size, uncompressed: size }, local: { compressed: size, uncompressed: size } }]);
    refused(bytes, { problem: /member overlaps the central directory/, expected: `data ending by byte ${31 + DATA.length}`, found: `data ending at byte ${bytes.length}` });
  });

  it("an overlap with the next member names it and both bytes", () => {
    const two = [{ name: 'a', data: DATA, central: { compressed: DATA.length + 1, uncompressed: DATA.length + 1 }, local: { compressed: DATA.length + 1, uncompressed: DATA.length + 1 } }, { name: 'b', data: DATA }];
    refused(zip(two), { problem: /member overlaps member 'b'/, expected: `data ending by byte ${31 + DATA.length}`, found: `data ending at byte ${32 + DATA.length}` });
  });
});

describe('reading members', () => {
  const deflated = (data: Uint8Array, central: Member['central'] = {}) => zip([{ name: 'a', data, method: 8, central, local: { compressed: central.compressed, uncompressed: central.uncompressed } }]);

  it('maxBytes refuses a member declaring more, and takes one declaring exactly as many', () => {
    const archive = open(zip([{ name: 'a', data: DATA }]));
    expect(archive.read('a', DATA.length)).toEqual(DATA);
    zipError(() => archive.read('a', DATA.length - 1), {
      problem: /^member declares more bytes than a valid one can hold/,
      member: 'a',
      offset: 31,
      expected: `at most ${DATA.length - 1} bytes`,
      found: `${DATA.length} bytes`,
    });
  });

  it('a declared size of exactly 1,032 times the stream passes the ratio check, then fails on the size', () => {
    const data = new Uint8Array(4000).fill(1);
    const stream = new Uint8Array(deflateRawSync(data));
    const archive = open(deflated(data, { uncompressed: stream.length * 1032 }));
    zipError(() => archive.read('a'), { problem: /^member inflates to a size other than the one declared/ });
    const over = open(deflated(data, { uncompressed: stream.length * 1032 + 1 }));
    zipError(() => over.read('a'), { problem: /beyond what the deflate stream can hold/ });
  });

  it('a stream that inflates short says how short', () => {
    const data = text('abc'.repeat(50));
    refusedRead(deflated(data, { uncompressed: data.length + 7 }), 'a', { problem: /inflates to a size other/, expected: `${data.length + 7} bytes`, found: `${data.length} bytes` });
  });

  it("a corrupt stream reports zlib's error in Node, fflate's with the fflate inflater", () => {
    const data = text('hello hello hello world '.repeat(20));
    const stream = new Uint8Array(deflateRawSync(data));
    const cut = stream.subarray(0, stream.length - 3);
    const bytes = zip([{ name: 'a', data, method: 8, stream: cut }]);
    refusedRead(bytes, 'a', { problem: 'deflate stream is corrupt: unexpected end of file', member: 'a', offset: 31 });
    refusedRead(bytes, 'a', { problem: 'deflate stream is corrupt: unexpected EOF' }, 'fflate');
  });
});

describe('without Node built-ins (a browser)', () => {
  it('the native inflater is refused, and crc32 and inflating run in TypeScript', async () => {
    const real = process.getBuiltinModule;
    vi.resetModules();
    (process as { getBuiltinModule?: unknown }).getBuiltinModule = undefined;
    let browserZip: typeof import('../src/data/zip.js');
    try {
      browserZip = await import('../src/data/zip.js');
    } finally {
      process.getBuiltinModule = real;
      vi.resetModules();
    }
    const data = text('hello hello hello world '.repeat(20));
    const bytes = zip([{ name: 'a', data, method: 8 }]);
    expect(() => browserZip.ZipArchive.open(bytes, 'a.npz', 'native')).toThrow(new Error('no native zlib here: use the fflate inflater'));
    expect(browserZip.ZipArchive.open(bytes, 'a.npz').read('a')).toEqual(data);
    expect(browserZip.crc32(data)).toBe(crc32(data));
  });
});
