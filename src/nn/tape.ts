/**
 * Reverse-mode autograd on a tape, as tf.GradientTape does it: while a tape is
 * active, every op in `ops.ts` records its output, its inputs and a closure that
 * turns the output's gradient into its inputs' gradients. `gradients()` walks the
 * records backwards, summing gradients that meet (the `add` kernel), and frees
 * every intermediate gradient as soon as it has been used. A gradient in a compact form
 * (gradient-forms.ts) reaches only an op that takes it; the others get it dense.
 */
import { add } from '../kernels/add.js';
import type { Tensor } from '../gpu/gpu.js';
import { densify, disposeRowGradient } from './gradient-forms.js';

/** The compact forms of an output's gradient (gradient-forms.ts) an op's backward takes as they are. */
export interface TakenForms {
  /** A [B, 1, D] gradient standing for [B, T, D]. */
  takesExpanded?: boolean;
  /** A [..., O] gradient standing for its product with a Dense kernel. */
  takesFactored?: boolean;
}

/** Gradients of an op's inputs, in input order; null where an input needs none (ids, labels). */
export type BackwardFn = (outputGradient: Tensor) => (Tensor | null)[];

interface Record {
  output: Tensor;
  inputs: Tensor[];
  backward: BackwardFn | null;
  /** The compact forms (gradient-forms.ts) the backward takes its output's gradient in; others it gets dense. */
  takes: TakenForms;
}

let active: Tape | null = null;

export class Tape {
  private readonly records: Record[] = [];

  /**
   * @param keepGradients false for evaluation: the tape then only collects the ops'
   *   outputs so that `dispose()` can free them, and keeps no backward closures.
   */
  constructor(readonly keepGradients = true) {}

  /** Run `fn` with this tape recording the ops it calls. */
  watch<T>(fn: () => T): T {
    if (active) throw new Error('Tape.watch: tapes do not nest');
    active = this;
    try {
      return fn();
    } finally {
      active = null;
    }
  }

  /**
   * d`loss`/d`target` for each target (a [1] loss, seeded with 1). The returned
   * gradients belong to the caller; everything else made here is freed. An embedding table's
   * gradient comes dense unless `rowGradients` asks for it row-sparse (gradient-forms.ts: the
   * caller then frees it with `disposeRowGradient`).
   */
  gradients(loss: Tensor, targets: readonly Tensor[], options: { rowGradients?: boolean } = {}): Map<Tensor, Tensor> {
    if (!this.keepGradients) throw new Error('Tape.gradients: this tape was made for evaluation (keepGradients = false)');
    const gpu = loss.gpu;
    // An output the forward pass left unwritten (an embedding's rows, read through their ids by a mean
    // pool: Tensor.defer) stays so: written now, it would record after updates that change what it reads.
    for (const { output } of this.records) {
      if (output.isDeferred) output.defer(() => { throw new Error('Tape.gradients: a deferred forward output was bound after the forward pass'); });
    }
    const grads = new Map<Tensor, Tensor>([[loss, gpu.upload(new Float32Array([1]), loss.shape)]]);
    for (let r = this.records.length - 1; r >= 0; r--) {
      const { output, inputs, backward, takes } = this.records[r];
      const given = grads.get(output);
      if (!given || !backward) continue; // the output does not reach the loss
      grads.delete(output);
      const dOut = densify(given, { expanded: takes.takesExpanded, factored: takes.takesFactored });
      const dIns = backward(dOut);
      dIns.forEach((dIn, i) => {
        if (!dIn) return;
        const previous = grads.get(inputs[i]);
        if (previous) {
          // Gradients that meet are summed dense (a row gradient's rows are its batch's alone).
          const [a, b] = [densify(previous), densify(dIn)];
          grads.set(inputs[i], add(gpu, a, b));
          a.dispose();
          b.dispose();
        } else {
          grads.set(inputs[i], dIn);
        }
      });
      // An op may hand its output's gradient on as an input's (dense: a factored gradient, unmultiplied).
      if (!targets.includes(output) && !dIns.includes(dOut)) dOut.dispose();
    }
    const result = new Map<Tensor, Tensor>();
    for (const [tensor, grad] of grads) {
      if (targets.includes(tensor)) result.set(tensor, densify(grad, { rows: options.rowGradients }));
      else disposeRowGradient(grad);
    }
    return result;
  }

  /** Free every recorded output except `keep` (the caller's own tensors are never recorded). */
  dispose(keep: readonly Tensor[] = []): void {
    for (const { output } of this.records) if (!keep.includes(output)) output.dispose();
    this.records.length = 0;
  }

  /**
   * Called by ops. Outside a tape nothing is recorded, and freeing outputs is up to the caller.
   * `takes`: the compact forms of its output's gradient the backward works from (gradient-forms.ts).
   */
  static record(output: Tensor, inputs: Tensor[], backward: BackwardFn, takes: TakenForms = {}): void {
    if (!active) return;
    if (active.keepGradients) active.records.push({ output, inputs, backward, takes });
    else active.records.push({ output, inputs: [], backward: null, takes });
  }
}
