// A row-sparse gradient's values (src/nn/gradient-forms.ts), written once for the kernels that read
// one: rows.wgsl's scatter and the optimizers' row updates. Row u belongs to table row rowIds[u] and
// is stored in `gradientRows` (declared by the shader this is put in front of) either as it is, D
// values, or factored: O sums whose product with a Dense kernel K [D, O] is the row,
//   g[u, d] = sums[u, 0]·K[d, 0] + sums[u, 1]·K[d, 1] + ..., added in that order
// (an embedding under a mean pool and a narrower Dense: the gradient is never written D wide).
// O is a pipeline constant: SwiftShader runs every path a lane might take, so a runtime choice
// between the forms cost each of them.

override FACTOR_UNITS: u32 = 0u; // O (0: the rows are stored as they are)
@group(0) @binding(15) var<storage, read> factor: array<f32>; // K [D, O]; any buffer when FACTOR_UNITS = 0 (unread, but in the layout)

// g[u, d] of a gradient with rows of `dim` values.
fn rowGradientAt(u: u32, d: u32, dim: u32) -> f32 {
  if (FACTOR_UNITS == 0u) { return gradientRows[u * dim + d]; }
  // The first term out of the loop, which then does not run at all for O = 1 (a loop per value costs
  // SwiftShader).
  var acc = gradientRows[u * FACTOR_UNITS] * factor[d * FACTOR_UNITS];
  for (var j = 1u; j < FACTOR_UNITS; j++) { acc += gradientRows[u * FACTOR_UNITS + j] * factor[d * FACTOR_UNITS + j]; }
  return acc;
}

// g[u, d .. d + 3], the same values; columns past `dim` repeat the last one (read, never to be
// stored). Lanes named: SwiftShader pays for loop-indexed vectors.
fn rowGradientQuad(u: u32, d: u32, dim: u32) -> vec4f {
  let last = dim - 1u;
  return vec4f(rowGradientAt(u, d, dim), rowGradientAt(u, min(d + 1u, last), dim), rowGradientAt(u, min(d + 2u, last), dim), rowGradientAt(u, min(d + 3u, last), dim));
}
