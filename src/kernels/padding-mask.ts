/** Keras' `mask_zero` mask from token ids on the GPU (shaders/padding-mask.wgsl), with its reference. */
import source from '../../shaders/padding-mask.wgsl';
import { linearWorkgroups, type Gpu, type Tensor } from '../gpu/gpu.js';

const WORKGROUP_SIZE = 256;

/** f32 mask of `ids`' shape: 1 where the id is not 0 (a real token), 0 for padding. */
export function paddingMaskForward(gpu: Gpu, ids: Tensor): Tensor {
  if (ids.dtype !== 'i32') throw new TypeError(`paddingMaskForward: ids must be i32, found ${ids.dtype} [${ids.shape.join(', ')}]`);
  const mask = gpu.empty(ids.shape);
  gpu.dispatch('padding-mask', source, 'forward', [ids, mask], linearWorkgroups(ids.size, WORKGROUP_SIZE), new Uint32Array([ids.size]));
  return mask;
}

export function paddingMaskReference(ids: Int32Array): Float32Array {
  return Float32Array.from(ids, (id) => (id !== 0 ? 1 : 0));
}
