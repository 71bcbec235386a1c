/**
 * Files the runner writes: always write-then-rename, so a crash or a kill never leaves a
 * half-written file behind (a reader sees the old file or the new one); and the checkpoint
 * storage of BackupAndRestore on top of that.
 */
import { open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { BackupStorage } from '../nn/backup.js';

const PARTIAL = '.partial-';

/** Write then rename; `contents` may come in pieces, written back to back. */
export async function writeAtomically(path: string, contents: string | Uint8Array | readonly Uint8Array[]): Promise<void> {
  const partial = `${path}${PARTIAL}${process.pid}`;
  if (typeof contents === 'string' || contents instanceof Uint8Array) {
    await writeFile(partial, contents, { flush: true });
  } else {
    const file = await open(partial, 'w');
    try {
      for (const piece of contents) await file.write(piece);
      await file.sync();
    } finally {
      await file.close();
    }
  }
  await rename(partial, path);
}

/** A checkpoint kept in the file at `path`. */
export function fileBackup(path: string): BackupStorage {
  return {
    description: path,
    read: async () => {
      try {
        return new Uint8Array(await readFile(path));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
    write: (pieces) => writeAtomically(path, pieces),
    remove: () => rm(path, { force: true }),
  };
}

/** Remove what a killed writer left of `paths` (their `.partial-PID` files); the files themselves are whole. */
export async function removePartials(paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    const prefix = `${basename(path)}${PARTIAL}`;
    const names = await readdir(dirname(path)).catch(() => []);
    await Promise.all(names.filter((n) => n.startsWith(prefix)).map((n) => rm(join(dirname(path), n), { force: true })));
  }
}
