#!/usr/bin/env node
// Mutation testing for the WGSL shaders, which StrykerJS cannot reach: `npm run test:mutation:wgsl
// [-- relu sigmoid ...] [--limit N]`. For each shader, one mutant at a time:
//   - operator swaps: + <-> -, * <-> / (compound assignments too);
//   - comparison boundaries: < <-> <=, > <-> >=, == <-> !=;
//   - constants: 0.0 <-> 1.0, other float literals halved, integer literals +1 / -1;
//   - dropped terms: `+ term` / `- term` removed, `max(a, b)` / `min(a, b)` / `select(a, b, c)` reduced to one argument;
// the mutated file is checked with Dawn's WGSL compiler (mutants that do not compile are counted
// apart, as Stryker does), then the test files that import the shader's kernel wrapper run; a
// failing run kills the mutant. The shader is restored in a `finally` and on SIGINT/SIGTERM (a
// signal waits for the running test process to end: the handler cannot run during it): it is a
// file other people's tests read, so run this only on a shader nobody is editing.
// Summary: bench/results/wgsl-mutation.json (one entry per shader, replaced when it is run again).
// Mutants known to be equivalent (EQUIVALENT, each with its reason) are not run and not scored;
// `--rescore` re-applies that table to the recorded summary without running anything.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const SHADERS = join(ROOT, 'shaders');
const SUMMARY = join(ROOT, 'bench', 'results', 'wgsl-mutation.json');
/**
 * Per mutant, a run of the covering tests may take this many times the unmutated run's time, plus
 * TEST_TIMEOUT_SLACK_MS, before it counts as timed out (detected, as in Stryker): a mutant that makes
 * a GPU loop endless hangs SwiftShader until then. A fixed 300 s made embedding.wgsl's binary-search
 * mutants cost 5 minutes each.
 */
const TEST_TIMEOUT_FACTOR = 2;
const TEST_TIMEOUT_SLACK_MS = 30_000;

// ---- mutants ----

/**
 * Mutants that cannot change what any caller sees, on Dawn: its robustness transform clamps an
 * out-of-bounds storage index to the last element (WebGPU lets an implementation clamp, discard
 * the write, or read 0; Dawn clamps). An entry with `in` holds only in those functions
 * ('shader.wgsl:function', the function the mutant is in); without it, wherever its line appears.
 * An entry with `before` holds only for the mutant whose (trimmed) line up to it ends with that text,
 * where a line holds the same swap twice and only one is equivalent; one with `next`, only where the
 * (trimmed) line after the mutant's matches it, where the same line appears twice in a function.
 */
const EQUIVALENT = [
  {
    line: /^if \(i >= params\.count\) \{ return; \}$/,
    from: '>=',
    to: '>',
    // Not where an invocation reads other indices than its own (a row through an order, a hash of its
    // index, a window of steps): there the extra invocation writes another value over the last
    // element, and the tests see it (takeRows, takeRows4, dropout, max-pool: each killed, then).
    in: [
      'add.wgsl:main',
      'binary-crossentropy.wgsl:backwardFromLogits',
      'binary-crossentropy.wgsl:backwardFromProbabilities',
      'copy.wgsl:copyScalar',
      'copy.wgsl:copyVec4',
      'padding-mask.wgsl:forward',
      'relu.wgsl:backward',
      'relu.wgsl:forward',
      'sigmoid.wgsl:backward',
      'sigmoid.wgsl:forward',
    ],
    reason: 'the one extra invocation (i = count) of an elementwise kernel reads and writes index count, clamped to count - 1: it rewrites the last element with the same value',
  },
  {
    line: /^if \(i >= params\.count\) \{ return; \}$/,
    from: '>=',
    to: '>',
    in: ['masked-mean-pool.wgsl:broadcast'],
    reason: 'in the extra invocation (i = count = B·D) every index clamps to the last: it writes dx[last] = mask[last] != 0 ? shares[last] : 0, what the invocation of (B - 1, D - 1) writes there',
  },
  {
    line: /^if \(i >= params\.count\) \{ return; \}$/,
    from: '>=',
    to: '>',
    in: ['mean-pool.wgsl:backward', 'mean-pool.wgsl:backward4'],
    reason: 'in the extra invocation (i = count = B·steps, so b = B) every index clamps to the last (out is [B, steps, D], src [B, D] or [B, 1, D], each bound at its size; as vec4s in backward4): for each d (each quad) it writes out[last] = src[last] / divisor, what the invocation of (B - 1, steps - 1) writes there at d = D - 1 (the last quad)',
  },
  {
    line: /^correct\[0\] = n;$/,
    from: '0',
    to: '1',
    reason: 'correct has one element: index 1 is clamped to 0',
  },
  {
    line: /^mean\[0\] = sum \/ f32\(params\.count\);$/,
    from: '0',
    to: '1',
    reason: 'mean has one element (binary-crossentropy.ts makes it [1], bound at its 4 bytes): index 1 is clamped to 0',
  },
  {
    line: /^out4?\[i\] = x4?\[order\[start\[0\] \+ i \/ params\.width\] \* params\.width \+ i % params\.width\];$/,
    from: '0',
    to: '1',
    reason: 'start has one element (takeRows checks it is [1], bound at its 4 bytes): index 1 is clamped to 0',
  },
  {
    line: /^let kept = draw\(params\.seed, bitcast<u32>\(step\[0\]\), noiseIndex\) >= params\.dropBelow;$/,
    from: '0',
    to: '1',
    reason: 'step has one element (dropoutForward checks it is i32 [1], bound at its 4 bytes): index 1 is clamped to 0',
  },
  {
    line: /^if \(any\(d\.xyz != vec3u\(1u\)\)\) \{$/,
    from: '1u',
    to: '0u',
    reason: 'dims are at least 1, so the test then holds for every shape and every element takes the coordinates path; for dims (1, 1, 1, count), the only ones that took the shortcut, that path gives coordinates (0, 0, 0, i) and the same noise index i * noiseStrides.w',
  },
  {
    line: /^for \(var t = 1u; t < params\.steps; t\+\+\) \{$/,
    from: '1u',
    to: '0u',
    reason: "max-pool's forward: the extra pass at t = 0 sets best = max(x[first], x[first]), which is x[first] itself (NaN and -0 included), so the loop reaches t = 1 with best unchanged",
  },
  {
    line: /^if \(n >= params\.count\) \{ return; \}$/,
    from: '>=',
    to: '>',
    in: ['embedding.wgsl:forward'],
    reason: "the extra invocation (n = count = N) reads ids[N], clamped to ids[N - 1], so it takes token N - 1's branch; each of its writes out[N·D + d] clamps to out's last element, and its last one (d = D - 1) is the value token N - 1's own invocation writes there (values[row·D + D - 1], or 0): whatever the interleaving, the element ends with that value",
  },
  {
    line: /^while \(hi - lo > 1u\) \{$/,
    from: '1u',
    to: '2u',
    in: ['embedding.wgsl:rowOf'],
    reason: "the search stops with hi - lo = 2 and may return lo one below the id whose run holds k; backwardPieces(4)'s loop over u then first meets an empty run (rowStarts[lo + 1] <= k), writes 0 to partials at k, and the next u writes the run's sum to that same index, in the same invocation",
  },
  {
    line: /^if \(n >= params\.count\) \{ return; \}$/,
    from: '>=',
    to: '>',
    in: ['embedding.wgsl:forward4'],
    reason: "as in forward, a quad at a time: the extra invocation (n = N) takes token N - 1's branch, each of its writes out4[N·D/4 + q] clamps to out4's last quad, and its last one (q = D/4 - 1) is the quad token N - 1's own invocation writes there: whatever the interleaving, that quad ends with it",
  },
  {
    line: /^if \(u32\(rowStarts\[mid\]\) <= k\) \{ lo = mid; \} else \{ hi = mid; \}$/,
    from: '<=',
    to: '<',
    in: ['embedding.wgsl:rowOf'],
    reason: "where k starts a run the search returns the id before it (rowStarts rise strictly: every id of the index holds a position), whose run ends at k: backwardPieces(4)'s loop writes 0 to partials at k for it, and the next u writes the run's sum to that same index, in the same invocation",
  },
  {
    line: /^let runEnd = min\(u32\(rowStarts\[u \+ 1u\]\), end\);$/,
    from: '1u',
    to: '0u',
    in: ['embedding.wgsl:backwardPieces', 'embedding.wgsl:backwardPieces4'],
    reason: "each u then sums the run of id u - 1: the first (rowOf(k), whose run starts at or before k) has an empty range and writes 0 to partials at k, the next sums the run that holds k into that same index, and each later run is summed into its own start, one pass late",
  },
  {
    line: /^if \(i >= params\.count\) \{ return; \}$/,
    from: '>=',
    to: '>',
    in: ['embedding.wgsl:backwardPieces', 'embedding.wgsl:backwardPieces4'],
    reason: 'the extra invocation i = count = windows · columns starts at k = windows · piece, at or past the tokens: its end is the tokens, so its loop writes nothing',
  },
  {
    line: /^if \(u >= params\.count \|\| u >= u32\(uniqueCount\[0\]\)\) \{ return; \}$/,
    from: '>=',
    to: '>',
    before: 'if (u ',
    in: ['embedding.wgsl:backward', 'embedding.wgsl:backward4'],
    reason: "the extra invocation u = count passes the first test but not the second: count is the index's host uniqueCount, U itself or a captured step's capacity, and the GPU's U is at most that",
  },
  {
    line: /^if \(u >= params\.count \|\| u >= u32\(uniqueCount\[0\]\)\) \{ return; \}$/,
    from: '>=',
    to: '>',
    before: 'if (u >= params.count || u ',
    in: ['embedding.wgsl:backward', 'embedding.wgsl:backward4'],
    reason: "u = U passes only where count > U (a captured step's index, dispatched for its capacity): it writes row U, which the rows tensor (sized for that capacity) holds and nothing reads (the scatter and the row optimizers take u < U only)",
  },
  {
    line: /^(var hi = u32\(uniqueCount\[0\]\);|if \(u >= params\.count \|\| u >= u32\(uniqueCount\[0\]\)\) \{ return; \})$/,
    from: '0',
    to: '1',
    in: ['embedding.wgsl:rowOf', 'embedding.wgsl:backward', 'embedding.wgsl:backward4'],
    reason: "uniqueCount has one element (an index's uniqueCountTensor, i32 [1], bound at its 4 bytes): index 1 is clamped to 0",
  },
  {
    line: /^if \(u >= params\.count \|\| u >= u32\(uniqueCount\[0\]\)\) \{ return -1; \}$/,
    from: '0',
    to: '1',
    in: ['rows.wgsl:tableRow'],
    reason: "uniqueCount has one element (an index's uniqueCountTensor, i32 [1], bound at its 4 bytes): index 1 is clamped to 0",
  },
  {
    line: /^if \(u >= params\.count \|\| u >= u32\(uniqueCount\[0\]\)\) \{ return -1; \}$/,
    from: '>=',
    to: '>',
    before: 'if (u ',
    in: ['rows.wgsl:tableRow'],
    reason: "the extra invocation u = count passes the first test but not the second: count is the index's host uniqueCount, U itself or a captured step's capacity, and the GPU's U is at most that, so u >= U returns it",
  },
  {
    line: /^if \(.*\) \{ return -1; \}$/,
    from: '1',
    to: '2',
    in: ['rows.wgsl:tableRow'],
    reason: 'tableRow returns -1 for "no row here", and its caller only asks t < 0: -2 answers the same',
  },
  {
    line: /^if \(u >= rowSpec\[0\] \|\| u >= u32\(uniqueCount\[0\]\)\) \{ return; \}$/,
    from: '0',
    to: '1',
    before: 'uniqueCount[',
    in: ['optimizer-adam.wgsl:adamRows'],
    reason: 'uniqueCount has one element (an index\'s uniqueCountTensor, i32 [1], bound at its 4 bytes): index 1 is clamped to 0',
  },
  {
    line: /^if \(id < firstRow \|\| id >= firstRow \+ rowSpec\[3\]\) \{ return; \}$/,
    from: '3',
    to: '4',
    in: ['optimizer-adam.wgsl:adamRows'],
    reason: 'rowSpec has four elements (optimizerRowUpdate uploads [invocations, D, firstRow, rows], bound at its 16 bytes): index 4 is clamped to 3',
  },
  {
    line: /^for \(; column \+ 4u <= dim; column \+= 4u\) \{$/,
    from: '4u',
    to: '5u',
    before: 'column + ',
    in: ['optimizer-adam.wgsl:adamRows'],
    reason: 'column + 5 <= dim is column + 4 < dim: the quad that ends the row exactly (column + 4 = dim) goes to the partial-quad path instead, which with lanes = 4 loads, steps and stores the same four values with the same adamStep',
  },
  {
    line: /^for \(; column \+ 4u <= dim; column \+= 4u\) \{$/,
    from: '<=',
    to: '<',
    in: ['optimizer-adam.wgsl:adamRows'],
    reason: 'as 4u -> 5u there: the quad that ends the row exactly goes to the partial-quad path, which with lanes = 4 computes and stores the same four values',
  },
  {
    line: /^if \(column < dim\) \{$/,
    from: '<',
    to: '<=',
    in: ['optimizer-adam.wgsl:adamRows'],
    reason: 'the extra case column = dim has lanes = 0: both loops over k < lanes are empty, so nothing is loaded or stored',
  },
  {
    line: /^var [wmv] = vec4f\(0\.0\);$/,
    from: '0.0',
    to: '1.0',
    in: ['optimizer-adam.wgsl:adamRows'],
    reason: 'only lanes k < lanes of the partial quad are loaded over this start and stored: lanes past D start at 1 instead of 0, are stepped, and are never stored',
  },
  {
    line: /^for \(var k = 0u; k < lanes; k\+\+\) \{$/,
    from: '<',
    to: '<=',
    in: ['optimizer-adam.wgsl:adamRows'],
    next: /^w\[k\] = tableRows\[at \+ column \+ k\];$/,
    reason: 'only in the loading loop (the storing one, the same line, is killed): lanes is 1 to 3 there, so k = lanes is a lane of the vec4 past D, loaded (from the next row, or clamped) and stepped but never stored',
  },
  ...['1u', '2u', '3u'].map((k) => ({
    line: /^return vec4f\(src\[row \+ d\], src\[row \+ min\(d \+ 1u, last\)\], src\[row \+ min\(d \+ 2u, last\)\], src\[row \+ min\(d \+ 3u, last\)\]\);$/,
    from: `min(d + ${k}, last)`,
    to: `(d + ${k})`,
    in: ['row-quads.wgsl:loadQuad'],
    reason: "only a lane past `last` reads another value (column d + k of the next row, or clamped at the buffer's end, instead of the last column repeated): every caller's lanes are independent (sums, scalings) and storeQuad never stores a lane past `last`",
  })),
  ...['1u', '2u', '3u'].map((k) => ({
    line: /^return vec4f\(rowGradientAt\(u, d, dim\), rowGradientAt\(u, min\(d \+ 1u, last\), dim\), rowGradientAt\(u, min\(d \+ 2u, last\), dim\), rowGradientAt\(u, min\(d \+ 3u, last\), dim\)\);$/,
    from: `min(d + ${k}, last)`,
    to: `(d + ${k})`,
    in: ['row-gradients.wgsl:rowGradientQuad'],
    reason: "only a lane past the row's last column reads another value (the next row's, or clamped): its one caller, adamRows, steps the four lanes independently (adamStep is lane-wise) and stores only the lanes below D",
  })),
  ...[['- 1u', ''], ['-', '+'], ['1u', '0u']].map(([from, to]) => ({
    line: /^let last = dim - 1u;$/,
    from,
    to,
    in: ['row-gradients.wgsl:rowGradientQuad'],
    reason: 'a larger `last` (D or D + 1) changes only the lanes past D - 1, which then read columns D or D + 1 (the next row, or clamped) instead of repeating D - 1: adamRows steps lanes independently and never stores those',
  })),
  {
    line: /^return select\(e \/ \(1\.0 \+ e\), 1\.0 \/ \(1\.0 \+ e\), z >= 0\.0\);$/,
    from: '>=',
    to: '>',
    in: ['binary-classification.wgsl:stableSigmoid'],
    reason: 'only z = ±0 takes the other branch, where e = exp(-0) = 1 and both branches give 1 / 2 = 0.5 exactly (a NaN z fails both tests alike)',
  },
  {
    line: /^let sum = outputSum\(output, min\(piece \* per, batch\.rows\), min\(\(piece \+ 1u\) \* per, batch\.rows\)\);$/,
    from: 'min(piece * per, batch.rows)',
    to: '(piece * per)',
    in: ['classifier-head.wgsl:gradients'],
    reason: "a piece that starts past the batch's rows then starts at piece · per instead of at rows; its end is still clamped to rows, so its loop runs from a start past its end, no rows either way, and its sum is 0",
  },
  {
    line: /^return loadQuad\(id \* params\.dim, 4u \* q, params\.dim - 1u\);$/,
    from: '- 1u',
    to: '',
    in: ['mean-pool.wgsl:gatheredQuad'],
    reason: "loadQuad's last only bounds the columns d + k past it: with last = D instead of D - 1 the lanes past D read column D (the next row's first value, or clamped at the table's end) instead of D - 1; forwardGathered sums those lanes but storeQuad, with its own last = D - 1, never stores them",
  },
  {
    line: /^return loadQuad\(id \* params\.dim, 4u \* q, params\.dim - 1u\);$/,
    from: '-',
    to: '+',
    in: ['mean-pool.wgsl:gatheredQuad'],
    reason: 'as dropping the - 1u: with last = D + 1 only lanes past D read other values (columns D or D + 1, clamped at the end), and those lanes are never stored',
  },
  {
    line: /^return loadQuad\(id \* params\.dim, 4u \* q, params\.dim - 1u\);$/,
    from: '1u',
    to: '0u',
    in: ['mean-pool.wgsl:gatheredQuad'],
    reason: 'as dropping the - 1u (last = D): only lanes past D read other values, and those lanes are never stored',
  },
  {
    line: /^let quads = \(params\.dim \+ 3u\) \/ 4u;$/,
    from: '3u',
    to: '4u',
    in: ['mean-pool.wgsl:forwardGathered'],
    reason: 'forwardGathered runs only for D not a multiple of 4 (meanPoolGatheredForward takes forwardGathered4 otherwise), and then (D + 4) / 4 = (D + 3) / 4 = ceil(D / 4)',
  },
  {
    line: /^for \(; t \+ 4u <= params\.steps; t \+= 4u\) \{$/,
    from: '+',
    to: '-',
    in: ['mean-pool.wgsl:forwardGathered', 'mean-pool.wgsl:forwardGathered4'],
    reason: 't - 4u <= steps wraps at t = 0 (u32) and is false: the four-step loop never runs, and the one-step loop after it adds every step from t = 0 in the same order, bit for bit',
  },
  {
    line: /^for \(; t \+ 4u <= params\.steps; t \+= 4u\) \{$/,
    from: '4u',
    to: '5u',
    before: 't + ',
    in: ['mean-pool.wgsl:forwardGathered', 'mean-pool.wgsl:forwardGathered4'],
    reason: 't + 5 <= steps is t + 4 < steps: a last whole quad of steps (t + 4 = steps) is added by the one-step loop instead, the same terms in the same order',
  },
  {
    line: /^for \(; t \+ 4u <= params\.steps; t \+= 4u\) \{$/,
    from: '<=',
    to: '<',
    in: ['mean-pool.wgsl:forwardGathered', 'mean-pool.wgsl:forwardGathered4'],
    reason: 'as 4u -> 5u there: a last whole quad of steps is added one step at a time by the next loop, in the same order',
  },
  {
    line: /^if \(review >= params\.reviews\) \{ return; \}$/,
    from: '>=',
    to: '>',
    in: ['embedding-bag.wgsl:forward'],
    reason: "the extra rows (review = reviews: the next data chunk's first review) read offsets[reviews .. reviews + 1], the second clamped to the first (offsets has reviews + 1 elements, bound at its size): no entries, so they write 0, or out unchanged when accumulating, and the next chunk's first shard, dispatched later and not accumulating, writes them over; in the last chunk review = reviews would be an order value past every review",
  },
  ...[['<', '<='], ['4u', '5u']].map(([from, to]) => ({
    line: /^for \(var j = q; j < 4u; j \+= DIM4\) \{$/,
    from,
    to,
    in: ['embedding-bag.wgsl:forward'],
    reason: 'the extra j = 4 (when DIM4 divides 4 - q) indexes the vec4s count and token at 4, which Dawn clamps to 3: it marks entry 3 again with the same bits, and atomicOr is idempotent',
  })),
  {
    line: /^if \(count\[j\] > 1\.0\) \{$/,
    from: '>',
    to: '>=',
    in: ['embedding-bag.wgsl:forward'],
    reason: 'a count of 1 then enters the branch with code u32(1) - 1 = 0, and atomicOr of 0 changes nothing',
  },
  {
    line: /^if \(count\[j\] > 1\.0\) \{$/,
    from: '1.0',
    to: '0.0',
    in: ['embedding-bag.wgsl:forward'],
    reason: 'inside `count[j] > 0.0` the test then always holds: the added counts are 1 (counts are whole), whose code 0 ORs in nothing',
  },
  {
    line: /^let code = u32\(min\(count\[j\], 4\.0\)\) - 1u;$/,
    from: 'min(count[j], 4.0)',
    to: '(4.0)',
    in: ['embedding-bag.wgsl:forward'],
    reason: 'counts 2 and 3 then get code 3 ("4 or more") too, for which the backward pass binary-searches the review for the exact count: the same 2 or 3, added as the same f32(count) in the same order',
  },
  {
    line: /^if \(v < params\.vocab\) \{$/,
    from: '<',
    to: '<=',
    in: ['embedding-bag.wgsl:backwardWords'],
    next: /^let summary = presenceBits\[WORDS \* params\.vocab \+ v\];$/,
    reason: "only the first of backwardWords' two tests (the summing one; the storing one, the same line, is killed): row v = V's lanes then sum words of the bitmap's next rows (clamped past its end) into their own lane sums, which only row V's store reads, and the second test still skips that",
  },
];

/**
 * The reason `text`'s mutant (in function `where`, 'shader.wgsl:function'; at `column` of the trimmed
 * line, when known) is equivalent, or null.
 */
function equivalence(text, original, replacement, where, column, next) {
  const at = (e) => (!e.before || (column != null && text.slice(0, column).endsWith(e.before))) && (!e.next || (next != null && e.next.test(next)));
  return EQUIVALENT.find((e) => e.line.test(text) && e.from === original && e.to === replacement && (!e.in || e.in.includes(where)) && at(e))?.reason ?? null;
}

/** The name of the WGSL function that byte `at` of `source` is in (the last `fn` before it), or null. */
function functionAt(source, at) {
  return [...source.slice(0, at).matchAll(/\bfn\s+(\w+)/g)].at(-1)?.[1] ?? null;
}

/** Byte ranges of comments, which are never mutated. */
function commentRanges(source) {
  return [...source.matchAll(/\/\/[^\n]*/g)].map((m) => [m.index, m.index + m[0].length]);
}

/** Lines that hold declarations the shader's interface depends on: bindings, sizes, struct fields. */
const FROZEN_LINE = /^\s*(@group|@compute|struct |const WORKGROUP_SIZE|override |\w+\s*:\s*[\w<>]+,?\s*(\/\/.*)?$)/;

const SWAPS = [
  [/(?<=\s)\+=(?=\s)/g, '-=', 'operator'],
  [/(?<=\s)-=(?=\s)/g, '+=', 'operator'],
  [/(?<=\s)\*=(?=\s)/g, '/=', 'operator'],
  [/(?<=\s)\+(?=\s)/g, '-', 'operator'],
  [/(?<=\s)-(?=\s)/g, '+', 'operator'],
  [/(?<=\s)\*(?=\s)/g, '/', 'operator'],
  [/(?<=\s)\/(?=\s)/g, '*', 'operator'],
  [/(?<=\s)<(?=\s)/g, '<=', 'boundary'],
  [/(?<=\s)<=(?=\s)/g, '<', 'boundary'],
  [/(?<=\s)>(?=\s)/g, '>=', 'boundary'],
  [/(?<=\s)>=(?=\s)/g, '>', 'boundary'],
  [/(?<=\s)==(?=\s)/g, '!=', 'boundary'],
  [/(?<=\s)!=(?=\s)/g, '==', 'boundary'],
];

/** A numeric literal's mutations. */
function constantMutations(literal) {
  const float = /^(\d+\.\d*|\d*\.\d+)(e-?\d+)?$/.exec(literal);
  if (float) {
    const v = Number(literal);
    if (v === 0) return ['1.0'];
    if (v === 1) return ['0.0', '2.0'];
    return [String(v / 2).includes('.') || String(v / 2).includes('e') ? String(v / 2) : `${v / 2}.0`];
  }
  const int = /^(\d+)(u|i)?$/.exec(literal);
  if (int) {
    const [v, suffix = ''] = [Number(int[1]), int[2]];
    return [`${v + 1}${suffix}`, ...(v > 0 ? [`${v - 1}${suffix}`] : [])];
  }
  return [];
}

/** An operand: a name with optional fields and indexing, a call without nested calls, or a literal. */
const OPERAND = String.raw`(?:[A-Za-z_][\w.]*(?:\[[^\[\]]*\])?(?:\.\w+)?|[A-Za-z_]\w*\([^()]*\)|\d[\w.]*)`;
const DROPPED_TERM = new RegExp(String.raw`\s[+-]\s${OPERAND}(?=[\s;),])`, 'g');
const REDUCIBLE_CALL = /\b(max|min|select)\(([^()]*(?:\([^()]*\)[^()]*)*)\)/g;

/** Split a call's arguments at top-level commas. */
function splitArgs(args) {
  const parts = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < args.length; i++) {
    const c = args[i];
    if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(args.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(args.slice(start).trim());
  return parts;
}

/** Every mutant of `source`: { at, length, replacement, kind, line, original }. */
export function mutants(source) {
  const comments = commentRanges(source);
  const lineStarts = [0, ...[...source.matchAll(/\n/g)].map((m) => m.index + 1)];
  const lineOf = (at) => lineStarts.findLastIndex((s) => s <= at) + 1;
  const lineText = (at) => source.slice(lineStarts[lineOf(at) - 1], source.indexOf('\n', at) === -1 ? undefined : source.indexOf('\n', at));
  const allowed = (at) => !comments.some(([a, b]) => at >= a && at < b) && !FROZEN_LINE.test(lineText(at));
  const found = [];
  const add = (at, original, replacement, kind) => {
    if (!allowed(at)) return;
    const raw = lineText(at);
    const column = at - lineStarts[lineOf(at) - 1] - (raw.length - raw.trimStart().length); // in the trimmed line
    const next = lineStarts[lineOf(at)] === undefined ? '' : lineText(lineStarts[lineOf(at)]).trim();
    found.push({ at, length: original.length, original, replacement, kind, line: lineOf(at), column, text: raw.trim(), next, fn: functionAt(source, at) });
  };
  for (const [pattern, replacement, kind] of SWAPS) for (const m of source.matchAll(pattern)) add(m.index, m[0], replacement, kind);
  for (const m of source.matchAll(/(?<![\w.])(\d+\.\d*|\d*\.\d+|\d+)(e-?\d+)?[ui]?(?![\w.])/g)) {
    for (const replacement of constantMutations(m[0])) add(m.index, m[0], replacement, 'constant');
  }
  for (const m of source.matchAll(DROPPED_TERM)) add(m.index, m[0], '', 'dropped term');
  for (const m of source.matchAll(REDUCIBLE_CALL)) {
    const args = splitArgs(m[2]);
    const keep = m[1] === 'select' ? args.slice(0, 2) : args;
    for (const arg of keep) add(m.index, m[0], `(${arg})`, 'dropped term');
  }
  return found.sort((a, b) => a.at - b.at || a.replacement.localeCompare(b.replacement));
}

export function apply(source, mutant) {
  return source.slice(0, mutant.at) + mutant.replacement + source.slice(mutant.at + mutant.length);
}

// ---- which tests cover a shader ----

/**
 * Test files that import a kernel wrapper built from `shader`: one that imports it, or imports a
 * module of src/kernels that does (shared WGSL such as shader-library.ts). The optimizers' shaders
 * are imported by src/nn/optimizers (optimizer.ts and one module per optimizer) and run by
 * src/kernels/optimizer-update.ts, which takes the optimizer as an argument: that is their wrapper.
 */
export function coveringTests(shader) {
  const dir = join(ROOT, 'src', 'kernels');
  const sources = new Map(readdirSync(dir).map((f) => [f.replace(/\.ts$/, '.js'), readFileSync(join(dir, f), 'utf8')]));
  const covering = new Set([...sources].filter(([, text]) => text.includes(`shaders/${shader}'`)).map(([m]) => m));
  const optimizers = join(ROOT, 'src', 'nn', 'optimizers');
  if (readdirSync(optimizers).some((f) => readFileSync(join(optimizers, f), 'utf8').includes(`shaders/${shader}'`))) covering.add('optimizer-update.js');
  for (let grew = true; grew; ) {
    grew = false;
    for (const [m, text] of sources) {
      if (!covering.has(m) && [...covering].some((c) => text.includes(`'./${c}'`))) covering.add(m), (grew = true);
    }
  }
  return readdirSync(join(ROOT, 'test'))
    .filter((f) => f.endsWith('.test.ts'))
    .filter((f) => [...covering].some((m) => readFileSync(join(ROOT, 'test', f), 'utf8').includes(`'../src/kernels/${m}'`)))
    .map((f) => `test/${f}`);
}

/**
 * The shared WGSL a shader may be prefixed with: what src/kernels/shader-library.ts imports, and
 * shaders/optimizer-common.wgsl, which src/nn/optimizers/optimizer.ts puts before every optimizer's.
 */
function sharedSnippets() {
  const importers = [join(ROOT, 'src', 'kernels', 'shader-library.ts'), join(ROOT, 'src', 'nn', 'optimizers', 'optimizer.ts')].filter((f) => existsSync(f));
  return importers.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/from '(?:\.\.\/)+shaders\/([\w-]+\.wgsl)'/g)].map((m) => readFileSync(join(SHADERS, m[1]), 'utf8')));
}

// ---- running ----

let restore = null;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    restore?.();
    process.exit(130);
  });
}

let dawn = null;

async function compiler() {
  const webgpu = await import('webgpu');
  Object.assign(globalThis, webgpu.globals);
  // As src/gpu/device.ts: Dawn's default backends, else SwiftShader's Vulkan driver.
  // Dawn's instance must outlive its device (it aborts otherwise): kept in `dawn` for the process.
  dawn = webgpu.create([]);
  let adapter = await dawn.requestAdapter();
  if (!adapter) {
    process.env.VK_ICD_FILENAMES ||= '/usr/lib/chromium/vk_swiftshader_icd.json'; // SWIFTSHADER_ICD there
    dawn = webgpu.create(['backend=vulkan']);
    adapter = await dawn.requestAdapter();
  }
  if (!adapter) throw new Error('no WebGPU adapter to compile the mutants with (see src/gpu/device.ts)');
  const device = await adapter.requestDevice();
  return async (code) => {
    const info = await device.createShaderModule({ code }).getCompilationInfo();
    return info.messages.filter((m) => m.type === 'error').map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
  };
}

function runTests(tests, timeout = undefined) {
  const started = performance.now();
  const run = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--bail=1', ...tests], { cwd: ROOT, encoding: 'utf8', timeout });
  return { passed: run.status === 0, timedOut: run.error?.code === 'ETIMEDOUT' || run.signal === 'SIGTERM', seconds: (performance.now() - started) / 1000, output: `${run.stdout}\n${run.stderr}` };
}

async function mutateShader(name, compile, limit) {
  const file = join(SHADERS, name);
  const original = readFileSync(file, 'utf8');
  const tests = coveringTests(name);
  if (tests.length === 0) throw new Error(`${name}: no test file imports a kernel wrapper of it`);
  const started = performance.now();
  const baseline = runTests(tests);
  if (!baseline.passed) throw new Error(`${name}: its tests fail before any mutation (${tests.join(', ')}):\n${baseline.output.slice(-2000)}`);
  const all = mutants(original).slice(0, limit);
  // Compile mutants as the kernels do: alone, or behind the shared WGSL the original needs (one
  // snippet, two of them (Adam's: optimizer-common and row-gradients), or all of them; a snippet
  // may name a binding only some shaders declare). A snippet itself compiles only in front of a
  // shader that declares what it reads (row-quads.wgsl: `src` and `out`): then each shader that is
  // not a snippet is tried behind it, alone or with another snippet in front.
  const shared = sharedSnippets();
  const pairs = shared.flatMap((a, i) => shared.slice(i + 1).map((b) => `${a}\n${b}\n`));
  const others = shared.filter((snippet) => snippet !== original);
  const hosts = others.length < shared.length ? readdirSync(SHADERS).filter((f) => f.endsWith('.wgsl')).map((f) => readFileSync(join(SHADERS, f), 'utf8')).filter((host) => !shared.includes(host)) : [];
  const contexts = [
    ...['', ...shared.map((snippet) => `${snippet}\n`), ...pairs, `${shared.join('\n')}\n`].map((before) => ({ before, after: '' })),
    ...hosts.flatMap((host) => ['', ...others.map((snippet) => `${snippet}\n`)].map((before) => ({ before, after: `\n${host}` }))),
  ];
  let context = null;
  for (const candidate of contexts) {
    if ((await compile(candidate.before + original + candidate.after)).length === 0) {
      context = candidate;
      break;
    }
  }
  if (context === null) console.warn(`${name}: does not compile alone, behind the shared WGSL nor in front of a shader: every mutant goes to the tests`);
  const results = [];
  restore = () => writeFileSync(file, original);
  try {
    for (const [i, mutant] of all.entries()) {
      const code = apply(original, mutant);
      const reason = equivalence(mutant.text, mutant.original.trim(), mutant.replacement.trim(), `${name}:${mutant.fn}`, mutant.column + (mutant.original.length - mutant.original.trimStart().length), mutant.next);
      const errors = reason || context === null ? [] : await compile(context.before + code + context.after);
      let status;
      let seconds = 0;
      if (reason) status = 'equivalent';
      else if (errors.length) status = 'compile error';
      else {
        writeFileSync(file, code);
        try {
          const run = runTests(tests, Math.round(TEST_TIMEOUT_FACTOR * baseline.seconds * 1000 + TEST_TIMEOUT_SLACK_MS));
          seconds = run.seconds;
          status = run.timedOut ? 'timeout' : run.passed ? 'survived' : 'killed';
        } finally {
          writeFileSync(file, original);
        }
      }
      const where = `${name}:${mutant.line}`;
      console.log(`${String(i + 1).padStart(3)}/${all.length} ${status.padEnd(13)} ${where} ${mutant.kind}: '${mutant.original.trim()}' -> '${mutant.replacement.trim()}'${seconds ? ` (${seconds.toFixed(1)} s)` : ''}`);
      results.push({ line: mutant.line, column: mutant.column + (mutant.original.length - mutant.original.trimStart().length), text: mutant.text, kind: mutant.kind, original: mutant.original.trim(), replacement: mutant.replacement.trim(), status, ...(reason ? { reason } : {}) });
    }
  } finally {
    restore();
    restore = null;
  }
  return { tests, ...tally(results), seconds: (performance.now() - started) / 1000, baselineSeconds: baseline.seconds, mutantsTried: results };
}

/** Counts and score of one shader's mutants. */
function tally(results) {
  const count = (s) => results.filter((r) => r.status === s).length;
  const detected = count('killed') + count('timeout');
  const scored = detected + count('survived');
  return {
    mutants: results.length,
    killed: count('killed'),
    timedOut: count('timeout'),
    survived: count('survived'),
    equivalent: count('equivalent'),
    compileErrors: count('compile error'),
    // As Stryker's mutation score: detected over the mutants that compiled, equivalent ones left out.
    score: scored ? detected / scored : null,
    survivors: results.filter((r) => r.status === 'survived'),
  };
}

function totals(summary) {
  const t = Object.values(summary.shaders).reduce((t, s) => ({ detected: t.detected + s.killed + s.timedOut, scored: t.scored + s.killed + s.timedOut + s.survived, equivalent: t.equivalent + (s.equivalent ?? 0) }), { detected: 0, scored: 0, equivalent: 0 });
  return { ...t, score: t.scored ? t.detected / t.scored : null, shaders: Object.keys(summary.shaders).length };
}

/** The recorded summary with EQUIVALENT re-applied (line texts from the shaders as they are now). */
function rescore(summary) {
  for (const [name, entry] of Object.entries(summary.shaders)) {
    const source = readFileSync(join(SHADERS, name), 'utf8');
    const lines = source.split('\n');
    for (const r of entry.mutantsTried) {
      r.text ??= lines[r.line - 1].trim();
      const fn = functionAt(source, lines.slice(0, r.line - 1).join('\n').length + 1);
      // A timeout too: an equivalent mutant changes nothing, so its run timed out only under load.
      // A killed one matching the table would prove its entry wrong: said, and left killed.
      const reason = r.status === 'compile error' ? null : equivalence(r.text, r.original, r.replacement, `${name}:${fn}`, r.column, lines[r.line]?.trim());
      if (reason && r.status === 'killed') console.warn(`${name}:${r.line} '${r.original}' -> '${r.replacement}' was killed, yet EQUIVALENT lists it`);
      else if (reason) Object.assign(r, { status: 'equivalent', reason });
    }
    Object.assign(entry, tally(entry.mutantsTried));
  }
  summary.total = totals(summary);
  return summary;
}

async function main(argv) {
  const limitAt = argv.indexOf('--limit');
  const limit = limitAt >= 0 ? Number(argv[limitAt + 1]) : Infinity;
  const names = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--limit').map((a) => (a.endsWith('.wgsl') ? a : `${a}.wgsl`));
  const shaders = names.length ? names : readdirSync(SHADERS).filter((f) => f.endsWith('.wgsl')).sort();
  for (const s of shaders) if (!existsSync(join(SHADERS, s))) throw new Error(`no shader shaders/${s}`);
  const summary = existsSync(SUMMARY) ? JSON.parse(readFileSync(SUMMARY, 'utf8')) : { shaders: {} };
  if (argv.includes('--rescore')) {
    writeFileSync(SUMMARY, `${JSON.stringify(rescore(summary), null, 2)}\n`);
    console.log(`rescored ${SUMMARY}: ${summary.total.detected} of ${summary.total.scored} killed, ${summary.total.equivalent} equivalent`);
    return;
  }
  const compile = await compiler();
  summary.benchmark = 'WGSL mutation testing (scripts/mutate-wgsl.mjs): each mutant against the test files that import its kernel wrapper';
  summary.machine = { cpu: cpus()[0]?.model.trim(), cores: cpus().length, memoryGB: Math.round(totalmem() / 2 ** 30) };
  for (const shader of shaders) {
    const result = await mutateShader(shader, compile, limit);
    summary.shaders[shader] = { date: new Date().toISOString(), ...result };
    const pct = result.score === null ? 'n/a' : `${(100 * result.score).toFixed(1)}%`;
    console.log(`${shader}: ${result.killed + result.timedOut} of ${result.killed + result.timedOut + result.survived} mutants killed (${pct}); ${result.equivalent} equivalent, ${result.compileErrors} did not compile; ${result.seconds.toFixed(0)} s`);
    summary.total = totals(summary);
    writeFileSync(SUMMARY, `${JSON.stringify(summary, null, 2)}\n`);
  }
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}
