// Four neighbouring columns of a row-major [rows, D] buffer at a time, with named lanes (a vector
// indexed by a loop variable costs SwiftShader a trip through memory): what the mean pools through
// the ids read and write. The shader this is put in front of declares `src` and `out` (array<f32>).

// src[row + d .. row + d + 3], columns past `last` (D - 1) repeating the last: read, never stored.
fn loadQuad(row: u32, d: u32, last: u32) -> vec4f {
  return vec4f(src[row + d], src[row + min(d + 1u, last)], src[row + min(d + 2u, last)], src[row + min(d + 3u, last)]);
}

// out[row + d .. row + d + 3] = v, the columns up to `last` only.
fn storeQuad(row: u32, d: u32, last: u32, v: vec4f) {
  out[row + d] = v.x;
  if (d + 1u <= last) { out[row + d + 1u] = v.y; }
  if (d + 2u <= last) { out[row + d + 2u] = v.z; }
  if (d + 3u <= last) { out[row + d + 3u] = v.w; }
}
