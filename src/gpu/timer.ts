/**
 * GPU time per compute pass (the runtime records one pass per dispatch), from timestamp
 * queries when the device has 'timestamp-query'. Attach with `gpu.timer = new GpuTimer(gpu)`:
 * every dispatch then writes a begin and an end timestamp, labelled `name:entryPoint`, and
 * `read()` returns the durations in recording order. Without the feature `method` is
 * 'wall-clock' and nothing is recorded: callers time batches of dispatches around `gpu.sync()`.
 *
 * Browsers may quantize timestamps (Chrome does unless started with
 * --enable-webgpu-developer-features); `quantized` says whether the ones read so far look so.
 */
import type { Gpu } from './gpu.js';

export type TimingMethod = 'timestamp-query' | 'wall-clock';

export interface PassTime {
  /** `name:entryPoint` of the dispatch. */
  label: string;
  /** End minus begin timestamp, in nanoseconds. */
  ns: number;
}

/** Passes per query set: two queries each. When full, the set is resolved and reused. */
const DEFAULT_PASS_CAPACITY = 256;
const QUERIES_PER_PASS = 2;
const TIMESTAMP_BYTES = 8;
/**
 * Timestamps all divisible by this many ns (a power of two) look quantized: Chrome's
 * quantization clears their low bits; a real clock leaves the low bits of some of them set.
 */
const QUANTIZED_AT_NS = 1024;
/** Fewer timestamps than this say nothing about quantization. */
const MIN_TIMESTAMPS_FOR_QUANTUM = 8;

/** A resolved chunk of timestamps waiting to be mapped, with the labels of its passes. */
interface Chunk {
  staging: GPUBuffer;
  labels: string[];
}

export class GpuTimer {
  readonly method: TimingMethod;
  /** Passes one query set holds before it is read out and reused. */
  readonly capacity: number;
  private readonly querySet: GPUQuerySet | null = null;
  private readonly resolveBuffer: GPUBuffer | null = null;
  /** Labels of the passes written into the query set since it was last resolved. */
  private labels: string[] = [];
  private chunks: Chunk[] = [];
  private freeStaging: GPUBuffer[] = [];
  /** Largest power of two dividing every timestamp read so far (0n: none read yet). */
  private quantum = 0n;
  private timestampsRead = 0;

  constructor(
    private readonly gpu: Gpu,
    capacity = DEFAULT_PASS_CAPACITY,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`GpuTimer: capacity must be a positive integer, found ${capacity}`);
    this.capacity = capacity;
    this.method = gpu.device.features.has('timestamp-query') ? 'timestamp-query' : 'wall-clock';
    if (this.method === 'timestamp-query') {
      this.querySet = gpu.device.createQuerySet({ type: 'timestamp', count: capacity * QUERIES_PER_PASS });
      this.resolveBuffer = gpu.device.createBuffer({
        size: this.chunkBytes,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      });
    }
  }

  /** The smallest step seen between timestamps, in ns (a power of two; null until enough were read). */
  get quantumNs(): number | null {
    return this.timestampsRead >= MIN_TIMESTAMPS_FOR_QUANTUM ? Number(this.quantum) : null;
  }

  /** Whether the timestamps read so far look quantized (false until enough were read). */
  get quantized(): boolean {
    return (this.quantumNs ?? 0) >= QUANTIZED_AT_NS;
  }

  /**
   * Called by `Gpu.dispatch` before it begins a pass on `encoder`: the timestampWrites for
   * that pass, or undefined without timestamp queries. A full query set is first resolved
   * on the same encoder (so in order with the passes that wrote it) and reused.
   */
  nextPass(label: string, encoder: GPUCommandEncoder): GPUComputePassTimestampWrites | undefined {
    if (!this.querySet) return undefined;
    if (this.labels.length === this.capacity) this.resolve(encoder);
    const first = this.labels.length * QUERIES_PER_PASS;
    this.labels.push(label);
    return { querySet: this.querySet, beginningOfPassWriteIndex: first, endOfPassWriteIndex: first + 1 };
  }

  /** Wait for the work recorded so far and return the passes timed since the last read, in order. */
  async read(): Promise<PassTime[]> {
    if (!this.querySet) return [];
    if (this.labels.length > 0) {
      // The passes sit in the runtime's encoder: submit them first, then the resolve.
      this.gpu.flush();
      const encoder = this.gpu.device.createCommandEncoder();
      this.resolve(encoder);
      this.gpu.device.queue.submit([encoder.finish()]);
    }
    const chunks = this.chunks;
    this.chunks = [];
    const times: PassTime[] = [];
    for (const { staging, labels } of chunks) {
      const bytes = labels.length * QUERIES_PER_PASS * TIMESTAMP_BYTES;
      await staging.mapAsync(GPUMapMode.READ, 0, bytes);
      const stamps = new BigUint64Array(staging.getMappedRange(0, bytes).slice(0));
      staging.unmap();
      this.freeStaging.push(staging);
      labels.forEach((label, i) => times.push({ label, ns: Number(stamps[2 * i + 1] - stamps[2 * i]) }));
      this.noteQuantum(stamps);
    }
    return times;
  }

  /** Free the query set and buffers (the device keeps working; detach the timer first). */
  destroy(): void {
    if (this.gpu.timer === this) this.gpu.timer = null;
    this.querySet?.destroy();
    this.resolveBuffer?.destroy();
    for (const { staging } of this.chunks) staging.destroy();
    for (const staging of this.freeStaging) staging.destroy();
    this.chunks = [];
    this.freeStaging = [];
    this.labels = [];
  }

  private get chunkBytes(): number {
    return this.capacity * QUERIES_PER_PASS * TIMESTAMP_BYTES;
  }

  /** Record the resolve of the written queries into a fresh staging buffer, and start the set over. */
  private resolve(encoder: GPUCommandEncoder): void {
    const queries = this.labels.length * QUERIES_PER_PASS;
    const staging =
      this.freeStaging.pop() ?? this.gpu.device.createBuffer({ size: this.chunkBytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.resolveQuerySet(this.querySet!, 0, queries, this.resolveBuffer!, 0);
    encoder.copyBufferToBuffer(this.resolveBuffer!, 0, staging, 0, queries * TIMESTAMP_BYTES);
    this.chunks.push({ staging, labels: this.labels });
    this.labels = [];
  }

  private noteQuantum(stamps: BigUint64Array): void {
    for (const t of stamps) {
      if (t === 0n) continue;
      const lowestBit = t & -t;
      this.quantum = this.quantum === 0n || lowestBit < this.quantum ? lowestBit : this.quantum;
      this.timestampsRead++;
    }
  }
}
