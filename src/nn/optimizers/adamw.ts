/**
 * AdamW, keras/src/optimizers/adamw.py: Adam (./adam.ts) with weight decay on by default (0.004) and
 * required. The decay is keras/src/optimizers/base_optimizer.py `_apply_weight_decay`,
 * w <- w - w * weight_decay * lr with the current learning rate, applied before Adam's update.
 */
import { AdamRule, ADAM_DEFAULTS, type AdamOptions } from './adam.js';

/** Keras' defaults. */
export const ADAMW_DEFAULTS = { ...ADAM_DEFAULTS, weightDecay: 0.004 } as const;

export class AdamW extends AdamRule {
  readonly name = 'adamw';

  constructor(options: AdamOptions = {}) {
    // Keras: "Argument `weight_decay` must be a float. Received: weight_decay=None".
    if (options.weightDecay === null) throw new RangeError('AdamW: weightDecay must be a number (AdamW decays weights), found null');
    super('AdamW', options, ADAMW_DEFAULTS.weightDecay);
  }
}
