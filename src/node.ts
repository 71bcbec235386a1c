/** shadergrad in Node: everything in `index.ts`, plus finding the data files as Keras does and the tutorial runner. */
export * from './index.js';
export {
  loadData,
  getWordIndex,
  locateDataFile,
  kerasCacheDir,
  IMDB_NPZ,
  IMDB_WORD_INDEX,
  KERAS_ORIGIN,
  type DataFileSpec,
  type LocateOptions,
  type LoadDataFileOptions,
} from './data/files.js';
export { trainTutorial, type TutorialOptions, type TutorialResult } from './runner/train.js';
export { textDatasetFromDirectory, textFolderSplits, readTextTable, type TextDirectoryOptions, type TextDataset, type TextFolderSplits, type Subset, type ReadTextTableOptions } from './data/text-datasets.js';
