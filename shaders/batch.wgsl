// A fused step's batch descriptor (src/kernels/embedding-bag.ts `batchWords`), shared by the
// embedding-bag and classifier-head shaders. Kept in a buffer, not in Params, so that a whole
// epoch of steps can be recorded once and each step's batch copied in.
struct Batch {
  first: u32, // index in `order` (and in `labels`) of the batch's first row
  rows: u32,  // rows (reviews) in the batch
  slot: u32,  // classifier head: the step's pair in `metrics` (metricSums: the pass's first chunk)
  mark: u32,  // embedding-bag forward: 1 to mark the presence bitmap for the backward pass
}
