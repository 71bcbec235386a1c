import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ZipFormatError } from '../src/data/errors.js';
import { crc32, crc32Table, ZipArchive } from '../src/data/zip.js';
import { zipBytes } from './fuzz/writers.js';
import { expectDataError, fixtureBytes } from './helpers.js';

const MEMBERS = ['x_train.npy', 'y_train.npy', 'x_test.npy', 'y_test.npy'];
const INFLATERS = ['native', 'fflate'] as const;

/** Offset of the end-of-central-directory record and of the first central header. */
function layout(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = bytes.length - 22;
  while (view.getUint32(eocd, true) !== 0x06054b50) eocd--;
  return { view, eocd, central: view.getUint32(eocd + 16, true) };
}

describe('ZipArchive', () => {
  it.each(['mini.npz', 'mini_compressed.npz', 'mini_protocol2.npz'])('lists and reads every member of %s', (name) => {
    const zip = ZipArchive.open(fixtureBytes('npz', name), name);
    expect(zip.names.sort()).toEqual([...MEMBERS].sort());
    for (const member of MEMBERS) {
      const data = zip.read(member);
      expect(String.fromCharCode(...data.subarray(1, 6))).toBe('NUMPY');
      expect(data.length).toBe(zip.entries.get(member)!.uncompressedSize);
    }
  });

  it.each(INFLATERS)('stored (np.savez) and deflated (np.savez_compressed) members hold the same bytes (%s)', (inflater) => {
    const stored = ZipArchive.open(fixtureBytes('npz', 'mini.npz'));
    const deflated = ZipArchive.open(fixtureBytes('npz', 'mini_compressed.npz'), 'c.npz', inflater);
    expect(stored.entries.get('x_train.npy')!.method).toBe(0);
    expect(deflated.entries.get('x_train.npy')!.method).toBe(8);
    for (const member of MEMBERS) expect(deflated.read(member)).toEqual(stored.read(member));
  });

  // crc32 is Node's zlib.crc32 here; crc32Table is what a browser runs: both against a bit-by-bit CRC.
  it.each([
    ['crc32', crc32],
    ['crc32Table', crc32Table],
  ])('computes CRC-32 as zlib does (%s), chained over pieces', (_name, crc) => {
    expect(crc(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc(new Uint8Array(0))).toBe(0);
    const bytes = fixtureBytes('npz', 'mini_compressed.npz');
    for (let n = 0; n < 40; n++) expect(crc(bytes.subarray(0, n * 29))).toBe(bitwiseCrc32(bytes.subarray(0, n * 29)));
    for (const cut of [0, 1, 7, 8, 9, 300]) expect(crc(bytes.subarray(cut, 600), crc(bytes.subarray(0, cut)))).toBe(bitwiseCrc32(bytes.subarray(0, 600)));
  });

  it('refuses a file that is not a zip', () => {
    expectDataError(() => ZipArchive.open(new TextEncoder().encode('hello, world: not a zip archive at all'), 'x.npz'), ZipFormatError, {
      file: 'x.npz',
      message: /no end-of-central-directory record/,
    });
    expectDataError(() => ZipArchive.open(new Uint8Array(3), 'tiny.npz'), ZipFormatError, { found: 'a 3-byte file' });
  });

  it.each(INFLATERS)('refuses every truncation of an archive, naming the file (%s)', (inflater) => {
    const bytes = fixtureBytes('npz', 'mini_compressed.npz');
    for (let n = 0; n < bytes.length; n += 7) {
      expectDataError(
        () => {
          const zip = ZipArchive.open(bytes.subarray(0, n), 'cut.npz', inflater);
          for (const m of MEMBERS) zip.read(m);
        },
        ZipFormatError,
        { file: 'cut.npz' },
      );
    }
  });

  it('detects a CRC mismatch in a stored member and names member and offset', () => {
    const bytes = fixtureBytes('npz', 'mini.npz').slice();
    const zip = ZipArchive.open(bytes);
    const entry = zip.entries.get('y_test.npy')!;
    const { view } = layout(bytes);
    const dataStart = entry.localHeaderOffset + 30 + view.getUint16(entry.localHeaderOffset + 26, true) + view.getUint16(entry.localHeaderOffset + 28, true);
    bytes[dataStart + entry.compressedSize - 1] ^= 0x01;
    expectDataError(() => ZipArchive.open(bytes, 'flip.npz').read('y_test.npy'), ZipFormatError, {
      file: 'flip.npz',
      member: 'y_test.npy',
      offset: dataStart,
      message: /CRC-32 mismatch/,
      expected: `0x${entry.crc32.toString(16).padStart(8, '0')}`,
    });
  });

  it.each(INFLATERS)('refuses a corrupt deflate stream or a CRC mismatch after inflating (%s)', (inflater) => {
    const bytes = fixtureBytes('npz', 'mini_compressed.npz');
    const entry = ZipArchive.open(bytes).entries.get('x_train.npy')!;
    const { view } = layout(bytes);
    const dataStart = entry.localHeaderOffset + 30 + view.getUint16(entry.localHeaderOffset + 26, true) + view.getUint16(entry.localHeaderOffset + 28, true);
    let refused = 0;
    for (let i = 0; i < entry.compressedSize; i += 3) {
      const bad = bytes.slice();
      bad[dataStart + i] ^= 0x5a;
      expectDataError(() => ZipArchive.open(bad, 'bad.npz', inflater).read('x_train.npy'), ZipFormatError, { member: 'x_train.npy', offset: dataStart });
      refused++;
    }
    expect(refused).toBeGreaterThan(50);
  });

  it.each(INFLATERS)('refuses a member that inflates past its declared size (%s)', (inflater) => {
    const payload = new Uint8Array(1000).fill(7);
    const bytes = buildZip('a.npy', deflateRawSync(payload), { method: 8, crc: bitwiseCrc32(payload), size: 999 });
    expectDataError(() => ZipArchive.open(bytes, 'bomb.npz', inflater).read('a.npy'), ZipFormatError, {
      message: /inflates to a size other than the one declared/,
      expected: '999 bytes',
      found: 'more',
    });
  });

  it('refuses a missing member and lists the ones there are', () => {
    expectDataError(() => ZipArchive.open(fixtureBytes('npz', 'mini.npz'), 'mini.npz').read('x_val.npy'), ZipFormatError, {
      member: 'x_val.npy',
      expected: /x_train\.npy/,
    });
  });

  it('refuses ZIP64 archives, encrypted members and unknown compression methods', () => {
    const base = fixtureBytes('npz', 'mini.npz');
    const zip64 = base.slice();
    const { eocd, central } = layout(zip64);
    new DataView(zip64.buffer).setUint16(eocd + 10, 0xffff, true);
    expectDataError(() => ZipArchive.open(zip64, 'big.npz'), ZipFormatError, { message: /ZIP64/, offset: eocd });

    const encrypted = base.slice();
    new DataView(encrypted.buffer).setUint16(central + 8, 0x0001, true);
    expectDataError(() => ZipArchive.open(encrypted, 'secret.npz'), ZipFormatError, { message: /encrypted/, offset: central });

    const bzip2 = base.slice();
    new DataView(bzip2.buffer).setUint16(central + 10, 12, true);
    expectDataError(() => ZipArchive.open(bzip2, 'bz.npz'), ZipFormatError, { message: /compression method/, found: '12' });

    const member64 = base.slice();
    new DataView(member64.buffer).setUint32(central + 20, 0xffffffff, true);
    expectDataError(() => ZipArchive.open(member64, 'm64.npz'), ZipFormatError, { message: /ZIP64 members/ });
  });

  it('refuses a corrupt central directory or local header', () => {
    const bytes = fixtureBytes('npz', 'mini.npz').slice();
    const { central } = layout(bytes);
    const badCentral = bytes.slice();
    badCentral[central] = 0;
    expectDataError(() => ZipArchive.open(badCentral, 'c.npz'), ZipFormatError, { offset: central, message: /central directory entry 0/ });

    const name = [...ZipArchive.open(bytes).entries.values()].find((e) => e.localHeaderOffset === 0)!.name;
    const badLocal = bytes.slice();
    badLocal[0] = 0;
    // Every local header is checked when the archive is opened.
    expectDataError(() => ZipArchive.open(badLocal, 'l.npz'), ZipFormatError, { offset: 0, member: name, message: /local header/ });
  });
});

/** A one-member stored/deflated zip with chosen header fields. */
function buildZip(name: string, data: Uint8Array, h: { method: number; crc: number; size: number }): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  const local = new Uint8Array(30 + nameBytes.length);
  const lv = new DataView(local.buffer);
  lv.setUint32(0, 0x04034b50, true);
  lv.setUint16(8, h.method, true);
  lv.setUint32(14, h.crc, true);
  lv.setUint32(18, data.length, true);
  lv.setUint32(22, h.size, true);
  lv.setUint16(26, nameBytes.length, true);
  local.set(nameBytes, 30);
  const central = new Uint8Array(46 + nameBytes.length);
  const cv = new DataView(central.buffer);
  cv.setUint32(0, 0x02014b50, true);
  cv.setUint16(10, h.method, true);
  cv.setUint32(16, h.crc, true);
  cv.setUint32(20, data.length, true);
  cv.setUint32(24, h.size, true);
  cv.setUint16(28, nameBytes.length, true);
  cv.setUint32(42, 0, true);
  central.set(nameBytes, 46);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, 1, true);
  ev.setUint16(10, 1, true);
  ev.setUint32(12, central.length, true);
  ev.setUint32(16, local.length + data.length, true);
  const out = new Uint8Array(local.length + data.length + central.length + eocd.length);
  out.set(local, 0);
  out.set(data, local.length);
  out.set(central, local.length + data.length);
  out.set(eocd, local.length + data.length + central.length);
  return out;
}

function bitwiseCrc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe('ZipArchive: local headers must agree with the central directory, and members may not overlap', () => {
  const members = () => [
    { name: 'x_train.npy', data: new Uint8Array(64).fill(1), method: 0 as const },
    { name: 'x_test.npy', data: new Uint8Array(64).fill(2), method: 0 as const },
  ];
  const ZIP64_EXTRA = 20;
  /** The local header of the first member (offset 0) and its ZIP64 extra field, as writers.ts lays them out. */
  const firstLocal = (bytes: Uint8Array) => {
    const view = new DataView(bytes.buffer);
    const nameEnd = 30 + view.getUint16(26, true);
    return { view, nameEnd, dataStart: nameEnd + ZIP64_EXTRA };
  };

  it('numpy-style archives (ZIP64 local sizes) open as they are', () => {
    const zip = ZipArchive.open(zipBytes(members()), 'ok.npz');
    expect(zip.read('x_test.npy')).toEqual(new Uint8Array(64).fill(2));
  });

  it.each([
    ['name', (b: Uint8Array) => (b[30] = 'X'.charCodeAt(0)), /disagrees with the central directory on the name/, "'x_train.npy'", "'X_train.npy'"],
    ['compression method', (b: Uint8Array) => new DataView(b.buffer).setUint16(8, 8, true), /on the compression method/, '0', '8'],
    ['CRC-32', (b: Uint8Array) => (b[14] ^= 1), /on the CRC-32/, /^0x/, /^0x/],
    ['sizes (ZIP64 field)', (b: Uint8Array) => new DataView(b.buffer).setUint32(30 + 11 + 4, 63, true), /on the sizes/, '64 compressed, 64 uncompressed', '64 compressed, 63 uncompressed'],
  ])('a local header naming another %s is refused (Python: "File name in directory and header differ")', (_, edit, message, expected, found) => {
    const bytes = zipBytes(members());
    edit(bytes);
    expectDataError(() => ZipArchive.open(bytes, 'lie.npz'), ZipFormatError, { member: 'x_train.npy', offset: 0, message, expected, found });
  });

  it('plain 32-bit local sizes are compared too, and a data descriptor may leave them zero', () => {
    const bytes = zipBytes(members());
    const { view } = firstLocal(bytes);
    // Local sizes written out (no ZIP64 markers): they must be the central ones.
    view.setUint32(18, 64, true);
    view.setUint32(22, 64, true);
    expect(ZipArchive.open(bytes).read('x_train.npy')).toHaveLength(64);
    view.setUint32(22, 65, true);
    expectDataError(() => ZipArchive.open(bytes), ZipFormatError, { message: /on the sizes/, found: '64 compressed, 65 uncompressed' });
    // Flag bit 3: CRC and sizes come after the data, so zero here is allowed.
    view.setUint16(6, 0x0008, true);
    view.setUint32(14, 0, true);
    view.setUint32(18, 0, true);
    view.setUint32(22, 0, true);
    expect(ZipArchive.open(bytes).read('x_train.npy')).toHaveLength(64);
  });

  it("a member whose data runs over the next member (a test split that is the training split's bytes) is refused", () => {
    const bytes = zipBytes(members());
    const { view, nameEnd, dataStart } = firstLocal(bytes);
    // x_train claims everything up to the end of x_test's data, its headers agreeing and its CRC right.
    const testEnd = bytes.length - 22 - (46 + 11) * 2;
    const span = bytes.subarray(dataStart, testEnd);
    const crc = crc32(span);
    view.setUint32(14, crc, true);
    view.setUint32(nameEnd + 4, span.length, true);
    view.setUint32(nameEnd + 12, span.length, true);
    const central = layout(bytes).central;
    view.setUint32(central + 16, crc, true);
    view.setUint32(central + 20, span.length, true);
    view.setUint32(central + 24, span.length, true);
    expectDataError(() => ZipArchive.open(bytes, 'overlap.npz'), ZipFormatError, {
      member: 'x_train.npy',
      message: /member overlaps member 'x_test\.npy' \(Python's zipfile refuses overlapped entries\)/,
    });
  });

  it('two central entries pointing at one local header are refused (one of them names another file)', () => {
    const bytes = zipBytes(members());
    const { view, eocd, central } = layout(bytes);
    const second = central + 46 + view.getUint16(central + 28, true);
    view.setUint32(second + 42, 0, true);
    expect(eocd).toBeGreaterThan(second);
    expectDataError(() => ZipArchive.open(bytes), ZipFormatError, { member: 'x_test.npy', message: /on the name/ });
  });

  it('a member running into the central directory is refused', () => {
    const bytes = zipBytes([members()[0]]);
    const { view, nameEnd } = firstLocal(bytes);
    const central = layout(bytes).central;
    for (const at of [central + 20, nameEnd + 12]) view.setUint32(at, 70, true);
    expectDataError(() => ZipArchive.open(bytes), ZipFormatError, { message: /member overlaps the central directory/ });
  });
});
