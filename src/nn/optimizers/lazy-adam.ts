/**
 * LazyAdam (TensorFlow Addons' `tfa.optimizers.LazyAdam`; PyTorch's `SparseAdam` likewise): Adam whose
 * update of an embedding table moves only the rows the batch holds, their moments included, so a step
 * costs the batch's distinct tokens rather than the table (a 1.2-million-row n-gram table).
 * What changes against Keras' (dense) Adam: a row absent from a batch keeps its moments and its weights
 * unchanged instead of decaying them and moving by the old momentum; the bias correction uses the global
 * step, as TF Addons' does. Every other weight (Dense layers) is updated as Adam does.
 * Same rule, shader and slots as Adam (./adam.ts): its `adamRows` entry point runs Adam's step on the
 * touched rows of the table and its slots in place (src/kernels/optimizer-update.ts `optimizerRowUpdate`).
 */
import { ADAM_DEFAULTS, AdamRule, type AdamOptions } from './adam.js';

export class LazyAdam extends AdamRule {
  readonly name = 'lazyadam';

  constructor(options: AdamOptions = {}) {
    super('LazyAdam', options, ADAM_DEFAULTS.weightDecay);
  }

  override readonly rowsEntryPoint = 'adamRows';
}
