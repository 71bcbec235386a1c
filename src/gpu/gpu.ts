/**
 * The GPU runtime every kernel goes through: tensors in pooled storage buffers,
 * compute pipelines cached by name, and dispatches recorded into one command
 * encoder that is submitted when results are needed (`flush`, `read`).
 *
 * Binding convention of every shader in shaders/: `@binding(0)` is a uniform
 * `params` struct (when the kernel has parameters), then the storage buffers in
 * the order the wrapper passes them.
 *
 * A tensor larger than one storage binding (the device's maxStorageBufferBindingSize, or the
 * lower `maxBindingBytes` a Gpu is made with) is split by rows of its first dimension into
 * chunks, each its own buffer: uploads, copies and reads go chunk by chunk, and the kernels
 * that meet such tensors (the embedding table, its gradient, Adam) dispatch once per chunk.
 * Every other kernel binds whole tensors and names the tensor if handed a split one.
 */
import { formatAdapter, getDevice, releaseDevice, type AdapterReport, type GetDeviceOptions } from './device.js';
import type { GpuTimer } from './timer.js';

export type DType = 'f32' | 'i32';

/** Bytes of staging buffers kept between read-backs (Gpu.stagingPool): a fastText checkpoint's. */
const STAGING_POOL_BYTES = 1 << 30;

/** A WebGPU error (validation, out of memory) or a lost device, with WebGPU's message. */
export class GpuError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuError';
  }
}

/** Largest workgroup count in one dimension that every WebGPU device accepts. */
const MAX_WORKGROUPS_PER_DIMENSION = 65535;
/** `linearWorkgroups` goes 2-D past this many workgroups: MAX_WORKGROUPS_PER_DIMENSION unless a test lowers it. */
let splitAbove = MAX_WORKGROUPS_PER_DIMENSION;
/** Uniform buffers are bound in blocks of this size (WebGPU's minUniformBufferOffsetAlignment ceiling). */
const UNIFORM_BLOCK = 256;
/** Smallest pooled buffer; larger ones come in four size classes per power of two. */
const MIN_POOLED_BYTES = 256;
const SIZE_CLASSES_PER_OCTAVE = 4;

/** One buffer of a tensor: rows [firstRow, firstRow + rows) of its first dimension. */
export interface TensorChunk {
  readonly buffer: GPUBuffer;
  /** Where the chunk starts in its buffer: 0 for a tensor of its own, a multiple of the device's storage offset alignment for a view (a weight in the parameter store). */
  readonly bufferOffset: number;
  readonly firstRow: number;
  readonly rows: number;
  /** Where the chunk's bytes start in the tensor's, and how many it holds. */
  readonly byteOffset: number;
  readonly byteLength: number;
}

export class Tensor {
  private disposed = false;
  /** The work that writes the tensor, recorded only when something first binds its buffers (`defer`). */
  private deferredFill: (() => void) | null = null;

  constructor(
    readonly gpu: Gpu,
    readonly shape: readonly number[],
    readonly dtype: DType,
    /** One chunk, unless the tensor is larger than one binding (see the file's comment). */
    private readonly storage: readonly TensorChunk[],
    /** False for a view into buffers that another owner keeps (`Gpu.view`): disposing it frees nothing. */
    readonly ownsBuffers = true,
  ) {}

  /** The tensor's buffers; asking for them records a deferred fill first. */
  get chunks(): readonly TensorChunk[] {
    const fill = this.deferredFill;
    if (fill) {
      this.deferredFill = null;
      fill();
    }
    return this.storage;
  }

  /**
   * Record `fill`, the work that writes this tensor, only when its buffers are first bound, copied or
   * read: a reader that can do without them (src/nn/ops.ts: a mean pool over embedding rows reads the
   * table through the ids) leaves them unwritten. The fill records at that point of the command
   * stream, so whatever it reads must not change before then.
   */
  defer(fill: () => void): void {
    this.deferredFill = fill;
  }

  /** Whether the contents are still deferred (nothing has bound the buffers yet). */
  get isDeferred(): boolean {
    return this.deferredFill !== null;
  }

  /** The tensor's buffer; a GpuError for a tensor split into chunks, whose kernel must take them one by one. */
  get buffer(): GPUBuffer {
    if (this.chunks.length !== 1) {
      throw new GpuError(
        `a tensor of shape [${this.shape.join(', ')}] is split into ${this.chunks.length} buffers (it is larger than one binding of ` +
          `${this.gpu.maxBindingBytes} bytes); only kernels that work chunk by chunk take it`,
      );
    }
    return this.chunks[0].buffer;
  }

  /** Number of elements. */
  get size(): number {
    return shapeSize(this.shape);
  }

  /** Bytes the tensor uses (its buffer may be larger: see `sizeClass`). */
  get byteLength(): number {
    return Math.max(4, this.size * 4);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Give the buffer back to the pool. Using the tensor afterwards is an error. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.deferredFill = null;
    if (this.ownsBuffers) for (const chunk of this.storage) this.gpu.release(chunk.buffer);
  }

  /** Copy to the host (flushes pending work). */
  async read(): Promise<Float32Array | Int32Array> {
    return this.gpu.read(this);
  }
}

/** Throw a RangeError naming `op` unless `t` has the shape of `like`. */
export function expectSameShape(op: string, name: string, t: Tensor, likeName: string, like: Tensor): void {
  if (t.shape.length !== like.shape.length || t.shape.some((d, i) => d !== like.shape[i])) {
    throw new RangeError(`${op}: expected ${name} of shape [${like.shape.join(', ')}] (as ${likeName}), found [${t.shape.join(', ')}]`);
  }
}

export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** What a storage binding takes: a whole tensor, one chunk of a split one, or a raw buffer. */
export type Binding = Tensor | TensorChunk | GPUBuffer;
/** Storage buffers of a dispatch: in order from binding 1, or keyed by binding number. */
export type Bindings = Binding[] | Record<number, Binding>;

export interface GpuOptions {
  /**
   * Bind at most this many bytes per storage binding, below the device's own limit: tensors
   * past it are split (tests use it to split small tables; a page can use it to stay within a
   * browser's default 128 MiB on any device).
   */
  maxBindingBytes?: number;
}

/** A dispatch with its pipeline and bind group made once (`Gpu.prepare`), recorded with `Gpu.record`. */
export interface PreparedDispatch {
  /** `name:entryPoint`, as the timer labels it. */
  readonly label: string;
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly workgroups: readonly [number, number, number];
}

export interface GpuStats {
  /** Bytes in buffers handed out now (pooled buffers not in use do not count). */
  bytesInUse: number;
  /** Bytes in every buffer the pool holds, in use or free. */
  bytesAllocated: number;
  /** Highest `bytesAllocated` so far. */
  peakBytesAllocated: number;
  dispatches: number;
  submits: number;
}

export class Gpu {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  /**
   * Staging buffers kept (unmapped) for the next read-back, up to STAGING_POOL_BYTES: creating one is
   * allocating and zeroing it, which for a checkpoint of a fastText table (720 MB) took 0.4 to 1.9 s.
   */
  private stagingPool: GPUBuffer[] = [];
  private readonly compiling = new Map<string, Promise<GPUComputePipeline>>();
  /** Free storage buffers by byte size: shapes repeat every step, so exact sizes reuse well. */
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly sizes = new WeakMap<GPUBuffer, number>();
  private encoder: GPUCommandEncoder | null = null;
  /** Uniform blocks written for the encoder being recorded; released at submit. */
  private pendingUniforms: GPUBuffer[] = [];
  private freeUniforms: GPUBuffer[] = [];
  readonly stats: GpuStats = { bytesInUse: 0, bytesAllocated: 0, peakBytesAllocated: 0, dispatches: 0, submits: 0 };
  /** When set, every dispatch's pass writes timestamps into it (src/gpu/timer.ts). */
  timer: GpuTimer | null = null;

  /** Set while `capture` records a step. */
  private capturing: CaptureState | null = null;
  /** Set while `upload` makes its tensor: see there. */
  private uploading = false;

  /** The first WebGPU error or device loss seen; every later read-back throws it. */
  private failure: GpuError | null = null;

  /** The most bytes one storage binding holds: tensors past it are split into chunks. */
  readonly maxBindingBytes: number;
  /** Which limit set it, for messages. */
  private readonly bindingLimitName: string;

  constructor(
    readonly device: GPUDevice,
    readonly report?: AdapterReport,
    options: GpuOptions = {},
  ) {
    const { maxStorageBufferBindingSize, maxBufferSize } = device.limits;
    const cap = options.maxBindingBytes ?? Infinity;
    if (!(cap >= 16)) throw new RangeError(`Gpu: maxBindingBytes must be at least 16, found ${cap}`);
    // A multiple of 16, so a chunk of vec4 rows (or of anything) ends on a whole element.
    const limit = Math.min(maxStorageBufferBindingSize, maxBufferSize, cap);
    this.maxBindingBytes = Math.floor(limit / 16) * 16;
    this.bindingLimitName = limit === cap ? 'the maxBindingBytes option' : limit === maxStorageBufferBindingSize ? "the device's maxStorageBufferBindingSize" : "the device's maxBufferSize";
    // WebGPU reports validation errors (a shader that does not compile, a bad binding)
    // as events, not exceptions: keep the first, so the next read-back fails with it.
    device.addEventListener('uncapturederror', this.onUncapturedError);
    void device.lost.then((info) => {
      this.failure ??= new GpuError(`the GPU device was lost (${info.reason}): ${info.message || 'no message'}`);
    });
  }

  /** Keeps the first WebGPU error (validation, out of memory), so the next read-back fails with it. */
  private readonly onUncapturedError = (event: Event) => {
    this.failure ??= new GpuError(`WebGPU error: ${(event as GPUUncapturedErrorEvent).error.message}`);
  };
  /** Set by `create`: hands the device back when the Gpu is closed. */
  private releaseDevice: (() => void) | null = null;

  static async create(options: GetDeviceOptions & GpuOptions = {}): Promise<Gpu> {
    const context = await getDevice(options);
    const gpu = new Gpu(context.device, context.report, options);
    gpu.releaseDevice = () => releaseDevice(context, options);
    return gpu;
  }

  /**
   * Done with this Gpu: its pooled buffers are destroyed and a device it made (`create`) is handed
   * back (device.ts `releaseDevice`: destroyed, or in Node on SwiftShader kept for the next `create`).
   * Tensors still held stay valid until freed; a device passed to the constructor is its owner's.
   * The device is handed back at once, or, when pipelines are still compiling, once they have
   * settled (the promise resolves then): Dawn's Node binding aborts the process when a thread ends with a
   * `createComputePipelineAsync` unanswered.
   */
  close(): Promise<void> {
    this.device.removeEventListener('uncapturederror', this.onUncapturedError);
    this.trim();
    for (const u of this.freeUniforms) u.destroy();
    this.freeUniforms = [];
    for (const b of this.stagingPool) b.destroy();
    this.stagingPool = [];
    const release = this.releaseDevice;
    this.releaseDevice = null;
    // At once when nothing is compiling, so that a Gpu.create right after gets the kept device.
    if (this.compiling.size === 0) return Promise.resolve(release?.());
    return Promise.allSettled(this.compiling.values()).then(() => release?.());
  }

  describe(): string {
    return this.report ? formatAdapter(this.report) : 'a caller-provided GPUDevice';
  }

  /**
   * A new tensor with uninitialised contents: one buffer, or, past `maxBindingBytes`, chunks of
   * whole rows of its first dimension. A single row past the limit cannot be split: that throws
   * a GpuError naming both sizes, at once, rather than a WebGPU error at the next read-back.
   */
  empty(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const bytes = Math.max(4, shapeSize(shape) * 4);
    const limit = this.maxBindingBytes;
    if (bytes <= limit) return new Tensor(this, [...shape], dtype, [this.chunk(0, shape[0] ?? 1, 0, bytes)]);
    const rows = shape[0];
    const rowBytes = bytes / rows;
    const rowsPerChunk = Math.floor(limit / rowBytes);
    if (rowsPerChunk < 1) {
      throw new GpuError(
        `a tensor of shape [${shape.join(', ')}] needs ${rowBytes} bytes per row of its first dimension; ` +
          `one binding holds at most ${limit} bytes (${this.bindingLimitName}), so it cannot be split into rows`,
      );
    }
    const chunks: TensorChunk[] = [];
    for (let first = 0; first < rows; first += rowsPerChunk) {
      const n = Math.min(rowsPerChunk, rows - first);
      chunks.push(this.chunk(first, n, first * rowBytes, n * rowBytes));
    }
    return new Tensor(this, [...shape], dtype, chunks);
  }

  private chunk(firstRow: number, rows: number, byteOffset: number, byteLength: number): TensorChunk {
    return { buffer: this.acquire(Math.min(sizeClass(byteLength), this.maxBindingBytes)), bufferOffset: 0, firstRow, rows, byteOffset, byteLength };
  }

  /**
   * A tensor of `shape` over parts of buffers someone else owns (the parameter store's shards):
   * it reads, writes, copies and binds like any tensor, and disposing it frees nothing.
   */
  view(shape: readonly number[], chunks: readonly TensorChunk[], dtype: DType = 'f32'): Tensor {
    const align = this.device.limits.minStorageBufferOffsetAlignment;
    for (const c of chunks) {
      if (c.bufferOffset % align !== 0) throw new RangeError(`view: a chunk at byte ${c.bufferOffset} of its buffer is not aligned to ${align} bytes`);
      if (c.byteLength > this.maxBindingBytes) throw new RangeError(`view: a chunk of ${c.byteLength} bytes passes one binding of ${this.maxBindingBytes}`);
    }
    const bytes = chunks.reduce((n, c) => n + c.byteLength, 0);
    if (bytes !== shapeSize(shape) * 4) throw new RangeError(`view: chunks of ${bytes} bytes for shape [${shape.join(', ')}]`);
    return new Tensor(this, [...shape], dtype, chunks, false);
  }

  /** A new tensor filled with zeros (cleared on the GPU, in order with other work). */
  zeros(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const t = this.empty(shape, dtype);
    this.recordClear(t);
    return t;
  }

  /** A new tensor holding `data`. */
  upload(data: Float32Array | Int32Array, shape: readonly number[] = [data.length]): Tensor {
    if (shapeSize(shape) !== data.length) throw new RangeError(`upload: ${data.length} values do not fill shape [${shape.join(', ')}]`);
    // Inside a capture the contents are written once, now: the buffer must be one no earlier command
    // of the step uses (not one freed inside the step), or replays would overwrite them.
    this.uploading = true;
    let t: Tensor;
    try {
      t = this.empty(shape, data instanceof Int32Array ? 'i32' : 'f32');
    } finally {
      this.uploading = false;
    }
    this.write(t, data);
    return t;
  }

  /** Overwrite a tensor's contents from the host, in order with the work recorded so far. */
  write(t: Tensor, data: Float32Array | Int32Array): void {
    if (data.length !== t.size) throw new RangeError(`write: ${data.length} values for a tensor of ${t.size}`);
    this.writeHead(t, data);
  }

  /** Overwrite a tensor's first data.length elements, leaving the rest as they are (a captured step's index with room to spare). */
  writeHead(t: Tensor, data: Float32Array | Int32Array): void {
    if (data.length > t.size) throw new RangeError(`writeHead: ${data.length} values for a tensor of ${t.size}`);
    // queue.writeBuffer runs before any later submit: flush what was recorded first to keep order.
    this.flush();
    if (this.capturing) {
      for (const c of t.chunks) {
        if (this.capturing.reused.has(c.buffer)) throw new Error('Gpu.write: inside a capture, a tensor made in the step from a buffer the step used before cannot be written from the host (upload a new one)');
        this.capturing.pinned.add(c.buffer);
      }
    }
    for (const c of t.chunks) {
      const bytes = Math.min(c.byteLength, data.byteLength - c.byteOffset);
      if (bytes > 0) this.device.queue.writeBuffer(c.buffer, c.bufferOffset, data.buffer, data.byteOffset + c.byteOffset, bytes);
    }
  }

  /** Copy `src` into `dst` (same size), recorded in order. */
  copy(src: Tensor, dst: Tensor): void {
    if (src.size !== dst.size) throw new RangeError(`copy: ${src.size} elements into ${dst.size}`);
    this.copyElements(src, 0, dst, 0, src.size);
  }

  /** Copy `count` elements from `src` at `srcStart` into `dst` at `dstStart`, across chunks, recorded in order. */
  copyElements(src: Tensor, srcStart: number, dst: Tensor, dstStart: number, count: number): void {
    if (srcStart < 0 || dstStart < 0 || srcStart + count > src.size || dstStart + count > dst.size) {
      throw new RangeError(`copyElements: [${srcStart}, ${srcStart + count}) of ${src.size} elements into [${dstStart}, ${dstStart + count}) of ${dst.size}`);
    }
    let from = srcStart * 4;
    let to = dstStart * 4;
    const end = from + count * 4;
    while (from < end) {
      const s = chunkAt(src, from);
      const d = chunkAt(dst, to);
      const bytes = Math.min(end - from, s.byteOffset + s.byteLength - from, d.byteOffset + d.byteLength - to);
      this.recordCopy(s.buffer, from - s.byteOffset + s.bufferOffset, d.buffer, to - d.byteOffset + d.bufferOffset, bytes);
      from += bytes;
      to += bytes;
    }
  }

  /**
   * Record one dispatch of `entryPoint` in the shader `code` (compiled once per `name`).
   * `params` fill the uniform at binding 0 (omit for kernels without one; a GPUBuffer is bound as
   * the uniform itself); `buffers` follow
   * from binding 1, or name their bindings (`{ 3: x, 4: out }`) for an entry point using only some.
   * `constants` set the shader's `override` declarations (a pipeline for each set).
   */
  dispatch(
    name: string,
    code: string,
    entryPoint: string,
    buffers: Bindings,
    workgroups: readonly [number, number?, number?],
    params?: ArrayBufferView | GPUBuffer,
    constants: Record<string, number> = {},
  ): void {
    const key = pipelineKey(name, entryPoint, constants);
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      pipeline = this.device.createComputePipeline(this.pipelineDescriptor(code, entryPoint, constants));
      this.pipelines.set(key, pipeline);
    }
    // A uniform buffer given as such is bound as it is (its owner keeps it up to date, step by step).
    const uniform = !params || isBuffer(params) ? params : this.capturing ? this.capturedUniform(this.capturing, params) : this.uniform(params);
    this.record([{ label: `${name}:${entryPoint}`, pipeline, bindGroup: this.bindGroup(name, pipeline, buffers, uniform), workgroups: xyz(workgroups) }]);
  }

  /**
   * A dispatch made ready once (pipeline compiled with createComputePipelineAsync, bind group
   * built) to be recorded any number of times with `record`: nothing is created per use.
   * `uniform`, when given, is bound at binding 0 (a buffer the caller keeps up to date);
   * `buffers` follow from binding 1, or name their bindings (`{ 1: a, 4: b }`) when the entry
   * point uses only some of its shader's bindings ('auto' layouts hold only the used ones).
   * `constants` set the shader's `override` declarations.
   */
  async prepare(
    name: string,
    code: string,
    entryPoint: string,
    buffers: Bindings,
    workgroups: readonly [number, number?, number?],
    uniform?: GPUBuffer,
    constants: Record<string, number> = {},
  ): Promise<PreparedDispatch> {
    const key = pipelineKey(name, entryPoint, constants);
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      // Several dispatches prepared together (a split table's shards) share one compilation.
      let compiling = this.compiling.get(key);
      if (!compiling) {
        compiling = this.device.createComputePipelineAsync(this.pipelineDescriptor(code, entryPoint, constants));
        this.compiling.set(key, compiling);
      }
      pipeline = await compiling;
      this.pipelines.set(key, pipeline);
      this.compiling.delete(key);
    }
    return { label: `${name}:${entryPoint}`, pipeline, bindGroup: this.bindGroup(name, pipeline, buffers, uniform), workgroups: xyz(workgroups) };
  }

  /** Record a copy of `bytes` between buffers, in order with the dispatches. */
  recordCopy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    if (this.capturing) this.capturing.commands.push({ copy: [src, srcOffset, dst, dstOffset, bytes] });
    else this.commandEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /** Record zeroing a tensor, in order with the dispatches. */
  recordClear(t: Tensor): void {
    for (const c of t.chunks) {
      // A tensor of its own clears its whole (pooled, possibly larger) buffer; a view only its part.
      const clear: [GPUBuffer, number, number] = t.ownsBuffers ? [c.buffer, 0, c.buffer.size] : [c.buffer, c.bufferOffset, c.byteLength];
      if (clear[2] === 0) continue;
      if (this.capturing) this.capturing.commands.push({ clear });
      else this.commandEncoder().clearBuffer(...clear);
    }
  }

  /**
   * Run `fn` (a step made of ops) without running it: its dispatches, copies and clears are
   * recorded into a `CapturedWork` that `replay` encodes again any number of times, with nothing
   * created per replay (tinygrad's TinyJit, on WebGPU's terms). Buffers the step allocates stay
   * the capture's until it is disposed (a buffer freed inside the step may serve a later tensor
   * of the same step, as it would each time the step runs); each dispatch gets its own uniform.
   * Host writes inside `fn` happen once, now, and their buffers are never reused: they must be
   * constants (the tape's seed), not data. Inputs that change per step are written outside.
   */
  capture<T>(fn: () => T): { work: CapturedWork; result: T } {
    if (this.capturing) throw new Error('Gpu.capture: captures do not nest');
    const state: CaptureState = { commands: [], held: new Set(), free: new Map(), pinned: new Set(), reused: new Set(), uniforms: [] };
    this.capturing = state;
    try {
      const result = fn();
      return { work: new CapturedWork(this, state.commands, [...state.held], state.uniforms), result };
    } catch (error) {
      for (const u of state.uniforms) u.destroy();
      for (const b of state.held) this.release(b);
      throw error;
    } finally {
      this.capturing = null;
    }
  }

  /** Encode captured work again, in order with everything recorded so far. */
  replay(work: CapturedWork): void {
    if (this.capturing) throw new Error('Gpu.replay: not while capturing');
    let run: PreparedDispatch[] = [];
    const flushRun = () => {
      if (run.length) this.record(run);
      run = [];
    };
    for (const command of work.commands) {
      if ('dispatch' in command) {
        run.push(command.dispatch);
        continue;
      }
      flushRun();
      if ('copy' in command) this.commandEncoder().copyBufferToBuffer(...command.copy);
      else this.commandEncoder().clearBuffer(...command.clear);
    }
    flushRun();
  }

  /** A uniform buffer holding `data`, outside the pool: for prepared dispatches; destroy it when done. */
  createUniform(data: ArrayBufferView): GPUBuffer {
    const size = Math.max(16, Math.ceil(data.byteLength / 16) * 16);
    const buffer = this.device.createBuffer({ size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buffer;
  }

  private bindGroup(name: string, pipeline: GPUComputePipeline, buffers: Bindings, uniform?: GPUBuffer): GPUBindGroup {
    const entries: GPUBindGroupEntry[] = [];
    if (uniform) entries.push({ binding: 0, resource: { buffer: uniform, size: Math.min(UNIFORM_BLOCK, uniform.size) } });
    const numbered = Array.isArray(buffers) ? buffers.map((b, i) => [i + 1, b] as const) : Object.entries(buffers).map(([k, b]) => [Number(k), b] as const);
    for (const [binding, b] of numbered) {
      if (b instanceof Tensor && b.isDisposed) throw new Error(`${name}: binding ${binding} is a disposed tensor`);
      if (b instanceof Tensor && b.chunks.length > 1) {
        throw new GpuError(
          `${name}: binding ${binding} is a tensor of shape [${b.shape.join(', ')}] split into ${b.chunks.length} buffers ` +
            `(larger than one binding of ${this.maxBindingBytes} bytes); this kernel takes whole tensors`,
        );
      }
      // A tensor (or chunk) is bound at its own length, so arrayLength() in a shader is its.
      const resource =
        b instanceof Tensor
          ? { buffer: b.buffer, offset: b.chunks[0].bufferOffset, size: b.byteLength }
          : isChunk(b)
            ? { buffer: b.buffer, offset: b.bufferOffset, size: Math.max(4, b.byteLength) }
            : { buffer: b };
      entries.push({ binding, resource });
    }
    return this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  }

  /** Record dispatches in order: one compute pass for all (one each while a timer is attached). */
  record(dispatches: readonly PreparedDispatch[]): void {
    if (this.capturing) {
      for (const dispatch of dispatches) this.capturing.commands.push({ dispatch });
      return;
    }
    const encoder = this.commandEncoder();
    let pass: GPUComputePassEncoder | null = null;
    for (const d of dispatches) {
      // With a timer each dispatch gets its own pass, as timestamps are written per pass.
      const timestampWrites = this.timer?.nextPass(d.label, encoder);
      if (timestampWrites || !pass) {
        pass?.end();
        pass = encoder.beginComputePass(timestampWrites && { timestampWrites });
      }
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(...d.workgroups);
      if (timestampWrites) {
        pass.end();
        pass = null;
      }
      this.stats.dispatches++;
    }
    pass?.end();
  }

  /** Submit everything recorded so far. */
  flush(): void {
    if (!this.encoder) return;
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.stats.submits++;
    this.freeUniforms.push(...this.pendingUniforms);
    this.pendingUniforms = [];
  }

  /**
   * Submit what was recorded and, in Node on a software adapter, block this thread for `ms` while it
   * runs (EpochReads sleeps so between polls for a read-back). dawn.node waits for a promise by
   * polling on every turn of the event loop, which takes CPU from SwiftShader's threads even at the
   * lowest priority (device.ts `yieldToSoftwareGpu`); a blocked thread takes none. Elsewhere only the
   * submit: a browser's wait does not poll, and a real GPU does not compute on the CPU. Says whether
   * it slept.
   */
  submitAndSleep(ms: number): boolean {
    this.flush();
    if (ms > 0 && this.report?.isSoftware && typeof process !== 'undefined' && process.versions?.node) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      return true;
    }
    return false;
  }

  /** Copy a tensor to the host once the work recorded before it has run. */
  async read(t: Tensor): Promise<Float32Array | Int32Array> {
    return (await this.readAll([t]))[0];
  }

  /** Several tensors copied to the host together (one wait for the GPU). */
  async readAll(tensors: readonly Tensor[]): Promise<(Float32Array | Int32Array)[]> {
    const starts: number[] = [];
    const segments: Segment[] = [];
    let bytes = 0;
    for (const t of tensors) {
      starts.push(bytes);
      for (const c of t.chunks) if (t.size > 0) segments.push({ buffer: c.buffer, offset: c.bufferOffset, bytes: c.byteLength });
      bytes += t.size * 4;
    }
    const copy = await this.readBack(segments);
    return tensors.map((t, i) => (t.dtype === 'i32' ? new Int32Array(copy, starts[i], t.size) : new Float32Array(copy, starts[i], t.size)));
  }

  /** The first element of each tensor, read back together (one wait for the GPU). */
  async readScalars(tensors: readonly Tensor[]): Promise<number[]> {
    const bytes = await this.readBack(tensors.map((t) => ({ buffer: t.chunks[0].buffer, offset: t.chunks[0].bufferOffset, bytes: 4 })));
    const f32 = new Float32Array(bytes);
    const i32 = new Int32Array(bytes);
    return tensors.map((t, i) => (t.dtype === 'i32' ? i32[i] : f32[i]));
  }

  /**
   * Copy `segments` of buffers, back to back, into staging buffers (as few as maxBufferSize
   * allows), submit, and return their contents as one ArrayBuffer.
   * A WebGPU error or a lost device since the last read-back is thrown here.
   */
  private async readBack(segments: readonly Segment[]): Promise<ArrayBuffer> {
    if (this.capturing) throw new Error('Gpu: a captured step cannot read back (it is recorded, not run)');
    this.throwIfFailed();
    const encoder = this.commandEncoder();
    const stagings: { buffer: GPUBuffer; bytes: number }[] = [];
    let staging: { buffer: GPUBuffer; bytes: number } | null = null;
    let total = 0;
    const maxStaging = this.device.limits.maxBufferSize;
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i];
      if (!staging || staging.bytes + s.bytes > staging.buffer.size) {
        // Sized for this segment and the ones after it that fit.
        let size = 0;
        for (let j = i; j < segments.length && size + segments[j].bytes <= maxStaging; j++) size += segments[j].bytes;
        staging = { buffer: this.takeStaging(Math.max(4, size)), bytes: 0 };
        stagings.push(staging);
      }
      encoder.copyBufferToBuffer(s.buffer, s.offset, staging.buffer, staging.bytes, s.bytes);
      staging.bytes += s.bytes;
      total += s.bytes;
    }
    this.flush();
    const out = new Uint8Array(total);
    let at = 0;
    try {
      await Promise.all(stagings.map((st) => st.buffer.mapAsync(GPUMapMode.READ)));
      for (const st of stagings) {
        out.set(new Uint8Array(st.buffer.getMappedRange(0, st.bytes)), at);
        at += st.bytes;
      }
    } catch (cause) {
      this.throwIfFailed();
      throw new GpuError(`reading back from the GPU failed: ${(cause as Error).message}`);
    } finally {
      for (const st of stagings) this.keepStaging(st.buffer);
    }
    this.throwIfFailed();
    return out.buffer;
  }

  /** The smallest pooled staging buffer of at least `bytes`, or a new one of `bytes`. */
  private takeStaging(bytes: number): GPUBuffer {
    let best = -1;
    this.stagingPool.forEach((b, i) => {
      if (b.size >= bytes && (best < 0 || b.size < this.stagingPool[best].size)) best = i;
    });
    if (best >= 0) return this.stagingPool.splice(best, 1)[0];
    return this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  /** Back into the pool (unmapped), dropping the oldest past STAGING_POOL_BYTES; destroyed when mapping failed. */
  private keepStaging(buffer: GPUBuffer): void {
    if (buffer.mapState !== 'mapped') return buffer.destroy();
    buffer.unmap();
    this.stagingPool.push(buffer);
    let total = this.stagingPool.reduce((sum, b) => sum + b.size, 0);
    while (total > STAGING_POOL_BYTES) {
      const oldest = this.stagingPool.shift()!;
      total -= oldest.size;
      oldest.destroy();
    }
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  /** Wait until the GPU has finished everything submitted. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
  }

  /** Called by Tensor.dispose. */
  release(buffer: GPUBuffer): void {
    const bytes = this.sizes.get(buffer)!;
    const state = this.capturing;
    if (state) {
      // Freed inside a captured step: reusable later in the same step (unless it holds a constant), kept after.
      state.held.add(buffer);
      if (!state.pinned.has(buffer)) {
        const list = state.free.get(bytes);
        if (list) list.push(buffer);
        else state.free.set(bytes, [buffer]);
      }
      return;
    }
    this.stats.bytesInUse -= bytes;
    const list = this.free.get(bytes);
    if (list) list.push(buffer);
    else this.free.set(bytes, [buffer]);
  }

  /** Destroy every pooled buffer that is not in use. */
  trim(): void {
    for (const list of this.free.values()) {
      for (const buffer of list) {
        this.stats.bytesAllocated -= this.sizes.get(buffer)!;
        buffer.destroy();
      }
    }
    this.free.clear();
  }

  private acquire(bytes: number): GPUBuffer {
    const reused = this.uploading ? undefined : this.capturing?.free.get(bytes)?.pop();
    if (reused) {
      this.capturing!.reused.add(reused);
      return reused;
    }
    let buffer = this.free.get(bytes)?.pop();
    if (!buffer) {
      buffer = this.device.createBuffer({
        size: bytes,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      this.sizes.set(buffer, bytes);
      this.stats.bytesAllocated += bytes;
      this.stats.peakBytesAllocated = Math.max(this.stats.peakBytesAllocated, this.stats.bytesAllocated);
    }
    this.stats.bytesInUse += bytes;
    this.capturing?.held.add(buffer);
    return buffer;
  }

  /** A captured dispatch's own uniform, written once: the capture keeps it until disposed. */
  private capturedUniform(state: CaptureState, params: ArrayBufferView): GPUBuffer {
    const buffer = this.createUniform(params);
    state.uniforms.push(buffer);
    return buffer;
  }

  private uniform(params: ArrayBufferView): GPUBuffer {
    if (params.byteLength > UNIFORM_BLOCK) throw new RangeError(`kernel params of ${params.byteLength} bytes exceed ${UNIFORM_BLOCK}`);
    const buffer =
      this.freeUniforms.pop() ?? this.device.createBuffer({ size: UNIFORM_BLOCK, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    // Written now, before this encoder is submitted; the buffer is not reused until then.
    this.device.queue.writeBuffer(buffer, 0, params.buffer, params.byteOffset, params.byteLength);
    this.pendingUniforms.push(buffer);
    return buffer;
  }

  private pipelineDescriptor(code: string, entryPoint: string, constants: Record<string, number> = {}): GPUComputePipelineDescriptor {
    return { layout: 'auto', compute: { module: this.device.createShaderModule({ code }), entryPoint, constants } };
  }

  private commandEncoder(): GPUCommandEncoder {
    return (this.encoder ??= this.device.createCommandEncoder());
  }
}

/** One command of captured work. */
type CapturedCommand =
  | { dispatch: PreparedDispatch }
  | { copy: [src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number] }
  | { clear: [buffer: GPUBuffer, offset: number, bytes: number] };

interface CaptureState {
  commands: CapturedCommand[];
  /** Every pooled buffer the step acquired or freed: the capture's until disposed. */
  held: Set<GPUBuffer>;
  /** Buffers freed inside the step, by size: the step's later tensors reuse them. */
  free: Map<number, GPUBuffer[]>;
  /** Buffers written from the host inside the step (constants): never reused. */
  pinned: Set<GPUBuffer>;
  /** Buffers handed out again from `free`: an earlier command of the step uses them too. */
  reused: Set<GPUBuffer>;
  uniforms: GPUBuffer[];
}

/** A step recorded by `Gpu.capture`, replayed by `Gpu.replay`. */
export class CapturedWork {
  private disposed = false;

  constructor(
    readonly gpu: Gpu,
    readonly commands: readonly CapturedCommand[],
    private readonly held: readonly GPUBuffer[],
    private readonly uniforms: readonly GPUBuffer[],
  ) {}

  get dispatches(): number {
    return this.commands.filter((c) => 'dispatch' in c).length;
  }

  /** Give the step's buffers back to the pool (tensors it returned must not be used afterwards). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of this.held) this.gpu.release(b);
    for (const u of this.uniforms) u.destroy();
  }
}

/** Bytes of a buffer to read back. */
interface Segment {
  buffer: GPUBuffer;
  offset: number;
  bytes: number;
}

function isBuffer(b: ArrayBufferView | GPUBuffer): b is GPUBuffer {
  return !ArrayBuffer.isView(b);
}

function isChunk(b: Binding): b is TensorChunk {
  return 'firstRow' in b;
}

/** The chunk of `t` holding byte `offset` (chunks are in order and contiguous). */
function chunkAt(t: Tensor, offset: number): TensorChunk {
  let lo = 0;
  let hi = t.chunks.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (t.chunks[mid].byteOffset <= offset) lo = mid;
    else hi = mid - 1;
  }
  return t.chunks[lo];
}

/** Pipelines are cached by shader, entry point and override constants (compiled in: loops over them unroll). */
function pipelineKey(name: string, entryPoint: string, constants: Record<string, number> = {}): string {
  return `${name}:${entryPoint}:${JSON.stringify(constants)}`;
}

/** Workgroup counts with y and z filled in. */
function xyz(workgroups: readonly [number, number?, number?]): [number, number, number] {
  return [workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1];
}

/**
 * The pooled size for a request of `bytes`: rounded up to one of four classes per
 * power of two (at most 25% unused), so that tensors whose size changes from batch
 * to batch (the embedding gradient's index) reuse buffers instead of adding new ones.
 */
export function sizeClass(bytes: number): number {
  if (bytes <= MIN_POOLED_BYTES) return MIN_POOLED_BYTES;
  const step = 2 ** (Math.floor(Math.log2(bytes)) - Math.log2(SIZE_CLASSES_PER_OCTAVE));
  return Math.ceil(bytes / step) * step;
}

/**
 * Workgroup counts covering `invocations` threads in groups of `workgroupSize`,
 * split over x and y when x alone would pass the per-dimension limit. Shaders
 * rebuild the linear index as `gid.x + gid.y * nwg.x * WORKGROUP_SIZE`.
 */
export function linearWorkgroups(invocations: number, workgroupSize: number): [number, number] {
  const groups = Math.max(1, Math.ceil(invocations / workgroupSize));
  if (groups <= splitAbove) return [groups, 1];
  const y = Math.ceil(groups / splitAbove);
  return [Math.ceil(groups / y), y];
}

/**
 * Make `linearWorkgroups` split dispatches of more than `groups` workgroups over x and y (default:
 * WebGPU's per-dimension limit, where it must). The test suite lowers it (test/setup.ts), so that
 * every kernel's 2-D index `gid.x + gid.y * nwg.x * WORKGROUP_SIZE` is checked by its ordinary
 * small tests, not only by tensors of more than 65,535 workgroups.
 */
export function splitDispatchesAbove(groups: number = MAX_WORKGROUPS_PER_DIMENSION): void {
  if (!Number.isInteger(groups) || groups < 1 || groups > MAX_WORKGROUPS_PER_DIMENSION) {
    throw new RangeError(`splitDispatchesAbove: a workgroup count in [1, ${MAX_WORKGROUPS_PER_DIMENSION}], found ${groups}`);
  }
  splitAbove = groups;
}

/**
 * Reads an epoch's results, the thread asleep while the GPU works: in Node on a software adapter it
 * blocks for SLICE_MS at a time (`Gpu.submitAndSleep`) and lets the event loop turn once between
 * slices, so dawn.node polls once per slice instead of on every turn, from the first epoch on.
 */
export class EpochReads {
  /** The sleep between two polls: the most an epoch's end can be noticed late. */
  static readonly SLICE_MS = 20;

  async readAll(gpu: Gpu, tensors: readonly Tensor[]): Promise<(Float32Array | Int32Array)[]> {
    const reading = gpu.readAll(tensors); // submitted now; its mapping resolves on a poll
    let settled = false;
    reading.then(
      () => void (settled = true),
      () => void (settled = true),
    );
    while (!settled && gpu.submitAndSleep(EpochReads.SLICE_MS)) await new Promise((turn) => setImmediate(turn));
    return reading;
  }
}
