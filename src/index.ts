/**
 * shadergrad's browser-safe API: the data readers (no file system), the GPU
 * runtime and the engine. Node adds file lookup and the tutorial runner (`src/node.ts`).
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
export { textToWordSequence, encodeReview, DEFAULT_FILTERS, type TextToWordSequenceOptions, type EncodeReviewOptions } from './data/text.js';
export {
  TextVectorization,
  TextVectorizationError,
  registerStandardize,
  lowerStripHtmlBreaksAndPunctuation,
  asciiLower,
  compareCodePoints,
  KERAS_PUNCTUATION_PATTERN,
  MASK_TOKEN,
  OOV_TOKEN,
  type TextVectorizationOptions,
  type TextVectorizationConfig,
  type StandardizeName,
  type StandardizeFunction,
  type SplitName,
  type TokenIds,
} from './data/text-vectorization.js';
export { parseTextTable, splitLabelledTexts, decodeUtf8, tableFormatOf, TextDataError, type TableFormat, type TextTableOptions, type LabelledTexts } from './data/text-table.js';
export { getDevice, releaseDevice, formatAdapter, NoWebGPUError, SWIFTSHADER_ICD, WAITING_THREAD_NICE, type AdapterReport, type GpuContext, type GetDeviceOptions } from './gpu/device.js';
export { Gpu, GpuError, Tensor, linearWorkgroups, shapeSize, sizeClass, type Bindings, type DType, type GpuStats, type PreparedDispatch } from './gpu/gpu.js';
export { GpuTimer, type PassTime, type TimingMethod } from './gpu/timer.js';
export { copyKernel, copyReference } from './kernels/copy.js';
export { Sequential, TrainingError, type TokenMatrix, type LabelArray, type CompileOptions, type FitOptions, type EvaluateOptions } from './nn/model.js';
export {
  Embedding,
  GlobalAveragePooling1D,
  GlobalMaxPooling1D,
  Dense,
  Dropout,
  Conv1D,
  Layer,
  LayerConfigError,
  LAYER_CLASSES,
  callLayers,
  inferenceContext,
  layerFromConfig,
  type Activation,
  type CallContext,
  type Conv1DOptions,
  type DropoutOptions,
  type LayerConfig,
  type LayerInput,
  type Shape,
  type TokenBatch,
  type Weight,
} from './nn/layers.js';
export { Adam, AdamW, SGD, RMSprop, Adagrad, ExponentialDecay, LearningRateSchedule, Optimizer, getOptimizer, OPTIMIZER_NAMES, type OptimizerName, type AdamOptions } from './nn/optimizers/index.js';
export { FusedExecutor, fusedLayout, type FusedLayout } from './nn/fused-training.js';
export { EagerExecutor, CapturedExecutor, type Executor, type MetricSums } from './nn/execution.js';
export { ParameterStore, type OptimizerState } from './nn/parameter-store.js';
export { History, EarlyStopping, type Callback, type Logs, type EarlyStoppingOptions } from './nn/callbacks.js';
export { Progbar, type Output } from './nn/progress.js';
export { Tape } from './nn/tape.js';
export { binaryCrossentropy, conv1d, dense, dropout, embedding, maskedMeanPool, maxPool, meanPool, paddingMask, relu, sigmoid } from './nn/ops.js';
export { encodeWeights, decodeWeights, WeightsFileError, type NamedWeights } from './nn/weights-file.js';
export {
  encodeModel,
  decodeModel,
  describeVectorizer,
  vectorizerFrom,
  ModelFileError,
  MODEL_FILE_VERSION,
  type ModelDescription,
  type LayerSpec,
  type VectorizerSpec,
} from './nn/model-file.js';
export { tfjsFiles, toTfjsLayersModel, fromTfjsLayersModel, TfjsExportError, TFJS_WEIGHTS_FILE, type TfjsModelJson, type TfjsExportOptions } from './nn/tfjs-export.js';
export { historySvg, curvesSvg, type CurveSet } from './runner/plot.js';
export { runTutorial, tutorialData, tutorialModel, TUTORIAL, type TutorialSettings, type TutorialRun } from './runner/tutorial.js';
