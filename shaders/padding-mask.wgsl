// Keras' Embedding mask (keras/src/layers/core/embedding.py `compute_mask` with mask_zero:
// `ops.not_equal(inputs, 0)`), as f32: mask[n] = 1 where ids[n] != 0, else 0. Computed on the GPU
// from the resident ids, so a step needs no host work for it.
// One invocation per id; dispatched as linearWorkgroups(params.count, WORKGROUP_SIZE).

const WORKGROUP_SIZE = 256u;

struct Params {
  count: u32, // ids: B·T
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> ids: array<i32>;        // [B, T] token ids
@group(0) @binding(2) var<storage, read_write> mask: array<f32>; // [B, T] 1 for a real token, 0 for padding (id 0)

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  mask[i] = select(0.0, 1.0, ids[i] != 0);
}
