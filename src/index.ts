/**
 * shadergrad's browser-safe API: the data readers (no file system) and the GPU
 * device. Node adds file lookup on top (`src/node.ts`).
 */
export * from './data/errors.js';
export { ZipArchive, crc32, type ZipEntry, type Inflater } from './data/zip.js';
export { readNpy, type NpyArray, type NumericDtype } from './data/npy.js';
export { unpickle, IntList, NumpyArray, NumpyDtype, PyDict, PyGlobal, PyTuple, type PyValue, type UnpickleOptions } from './data/pickle.js';
export { RandomState, shuffledIndices } from './data/random-state.js';
export { Sequences, padSequences, sequencesFromPyLists, type PadOptions, type PaddedSequences } from './data/sequences.js';
export {
  imdbFromNpz,
  parseWordIndex,
  decodeReview,
  type ImdbData,
  type Split,
  type Labels,
  type LoadDataOptions,
  type WordIndex,
  type DecodeOptions,
} from './data/imdb.js';
export { getDevice, formatAdapter, NoWebGPUError, SWIFTSHADER_ICD, type AdapterReport, type GpuContext, type GetDeviceOptions } from './gpu/device.js';
