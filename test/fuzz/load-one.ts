/**
 * Loads one file with one reader in a process of its own and prints one JSON line: the outcome
 * (`loaded` or the typed error's class), its message, the milliseconds of CPU the load took
 * (user and system: a busy machine's descheduling is not the reader's work), the wall time and the
 * process's peak resident memory (VmHWM). test/hostile-bounds.test.ts runs it per hostile file, so
 * that time and memory are measured for that file alone.
 *
 *   node load-one.mjs <npz|npy|pickle|wordIndex|weights> <file>
 */
import { readFileSync } from 'node:fs';
import { DataError } from '../../src/data/errors.js';
import { imdbFromNpz, parseWordIndex } from '../../src/data/imdb.js';
import { readNpy } from '../../src/data/npy.js';
import { unpickle } from '../../src/data/pickle.js';
import { decodeWeightsFile, WeightsFileError } from '../../src/nn/weights-file.js';

const READ: Record<string, (bytes: Uint8Array, file: string) => unknown> = {
  npz: (bytes, file) => imdbFromNpz(bytes, {}, file),
  npy: (bytes, file) => readNpy(bytes, { file }),
  pickle: (bytes, file) => unpickle(bytes, { file }, { compactIntLists: true }),
  wordIndex: (bytes, file) => parseWordIndex(Buffer.from(bytes).toString('utf8'), file),
  weights: (bytes, file) => decodeWeightsFile(bytes, file),
};

const [reader, file] = process.argv.slice(2);
const bytes = new Uint8Array(readFileSync(file));
const started = performance.now();
const cpuStarted = process.cpuUsage();
let result = 'loaded';
let message = '';
try {
  READ[reader](bytes, file);
} catch (error) {
  if (!(error instanceof DataError || error instanceof WeightsFileError)) throw error;
  result = error.constructor.name;
  message = error.message;
}
const wallMs = performance.now() - started;
const cpu = process.cpuUsage(cpuStarted);
const ms = (cpu.user + cpu.system) / 1000;
// VmHWM, not getrusage's maxRSS: Linux carries the parent's peak across fork and exec into the latter.
const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
const maxRssBytes = hwm ? Number(hwm[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
console.log(JSON.stringify({ result, message, ms, wallMs, maxRssBytes }));
