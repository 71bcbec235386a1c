/**
 * One way to get a GPUDevice, in Node (Dawn, npm package `webgpu`) and in a
 * WebGPU browser, with a report of the adapter it runs on.
 *
 * In Node a real GPU is preferred; when Dawn finds no adapter, SwiftShader (the
 * Vulkan driver on the CPU that Debian's chromium ships) is tried by itself. On Linux
 * without a GPU device node Dawn's default probe is skipped: it could only meet CPU
 * drivers, and Mesa's lavapipe makes Dawn print "Vulkan shaderUniform*ArrayDynamicIndexing
 * required" to stderr from native code (no JS callback sees it) before it is refused.
 */

/** Debian's chromium ships SwiftShader's Vulkan ICD here. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Limits requested at the adapter's real values, so kernels can size themselves. */
const REQUESTED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
] as const;
type RequestedLimit = (typeof REQUESTED_LIMITS)[number];

/** Optional features used when the adapter has them (kernel timing). */
const WANTED_FEATURES: GPUFeatureName[] = ['timestamp-query'];

export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** How the adapter was reached: 'dawn-default', 'dawn-swiftshader' or 'browser'. */
  backend: string;
  /** True on SwiftShader or any adapter that says it is a fallback (CPU) adapter. */
  isSoftware: boolean;
  /** Why this adapter rather than a default one, when that was not the first choice. */
  reason?: string;
  /** Node on a software adapter: the waiting thread's nice value after `yieldToSoftwareGpu`. */
  waitingThreadNice?: number;
  limits: Record<RequestedLimit, number>;
  features: string[];
}

export interface GpuContext {
  device: GPUDevice;
  adapter: GPUAdapter;
  report: AdapterReport;
}

/** No WebGPU adapter could be had. `tried` lists each attempt and what it gave. */
export class NoWebGPUError extends Error {
  constructor(
    readonly tried: string[],
    readonly fix: string,
  ) {
    // One line, as every error the command line prints: what was tried, separated by semicolons.
    super(`No WebGPU adapter found; tried ${tried.join('; ')}. Fix: ${fix}`);
    this.name = 'NoWebGPUError';
  }
}

export interface GetDeviceOptions {
  powerPreference?: GPUPowerPreference;
  /** Node only: skip the default adapters and use SwiftShader (for reproducible CPU runs). */
  forceSwiftShader?: boolean;
  /**
   * Node on a software adapter only (default true): lower the calling thread's priority to
   * WAITING_THREAD_NICE once the device exists. dawn.node waits for a promise (a read-back, a
   * map) by polling on every turn of the event loop (setImmediate), a core's worth of spinning;
   * on SwiftShader that core is one the "GPU" computes on, so the epoch ran about 1.4 times as
   * long as in a browser, whose wait sleeps. At the lowest priority the waiting thread yields to
   * SwiftShader's threads (made at the device's creation, at the process's priority). Linux
   * keeps priorities per thread, and only a privileged process can raise it again.
   */
  yieldToSoftwareGpu?: boolean;
}

/** The nice value `yieldToSoftwareGpu` gives the thread that waits for the GPU (the lowest priority). */
export const WAITING_THREAD_NICE = 19;

/**
 * Node on a software adapter: the device a finished user handed back (`releaseDevice`), kept for the
 * next getDevice with the same options. A new device would make new threads, and Linux gives a new
 * thread the priority of the thread that makes it: after `yieldToSoftwareGpu` that is the lowest, so a
 * second device's SwiftShader queue thread ran at nice 19 beside the polling thread, and every run
 * after the first in one process took about 1.4 times as long an epoch.
 */
let spare: { key: string; context: GpuContext } | null = null;
/** Devices destroyed or lost: never handed out again. */
const gone = new WeakSet<GPUDevice>();

function deviceKey(options: GetDeviceOptions): string {
  return JSON.stringify([options.powerPreference ?? null, options.forceSwiftShader === true, options.yieldToSoftwareGpu !== false]);
}

/**
 * Done with a device from getDevice: in Node on a software adapter it is kept for the next
 * getDevice with the same `options` (see `spare`; whatever buffers its user left are its user's to
 * free), anywhere else destroyed.
 */
export function releaseDevice(context: GpuContext, options: GetDeviceOptions = {}): void {
  if (isNode() && context.report.isSoftware && !gone.has(context.device) && !spare) {
    spare = { key: deviceKey(options), context };
    return;
  }
  gone.add(context.device);
  context.device.destroy();
}

/** A GPUDevice with the adapter's real limits, in Node or in a browser. */
export async function getDevice(options: GetDeviceOptions = {}): Promise<GpuContext> {
  if (spare && spare.key === deviceKey(options) && !gone.has(spare.context.device)) {
    const { context } = spare;
    spare = null;
    return context;
  }
  const found = isNode() ? await nodeAdapter(options) : await browserAdapter(options);
  const { adapter, backend } = found;
  const requiredLimits: Record<string, number> = {};
  for (const name of REQUESTED_LIMITS) requiredLimits[name] = adapter.limits[name];
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  void device.lost.then(() => gone.add(device));
  if (found.instance) instanceOf.set(device, found.instance);
  const report = describeAdapter(adapter, device, backend);
  if (found.reason) report.reason = found.reason;
  if (isNode() && report.isSoftware && options.yieldToSoftwareGpu !== false) {
    const os = await import('node:os');
    // 0: the calling thread (Linux's setpriority is per thread); where not allowed, keep going as before.
    try {
      if (os.getPriority(0) < WAITING_THREAD_NICE) os.setPriority(0, WAITING_THREAD_NICE);
      report.waitingThreadNice = os.getPriority(0);
    } catch {
      // Some sandboxes refuse setpriority: the wait then competes with SwiftShader as before.
    }
  }
  return { device, adapter, report };
}

/**
 * One line naming the adapter and, when it was not the first choice, why, for logs:
 * `SwiftShader driver 5.0.0 (google swiftshader, dawn-swiftshader, software): no GPU device node (...)`.
 */
export function formatAdapter(report: AdapterReport): string {
  const name = report.description || report.device || 'unknown adapter';
  const kind = [report.vendor, report.architecture].filter(Boolean).join(' ');
  const reason = report.reason ? `: ${report.reason}` : '';
  return `${name} (${[kind, report.backend, report.isSoftware ? 'software' : 'hardware'].filter(Boolean).join(', ')})${reason}`;
}

function describeAdapter(adapter: GPUAdapter, device: GPUDevice, backend: string): AdapterReport {
  const info = adapter.info;
  const limits = {} as Record<RequestedLimit, number>;
  for (const name of REQUESTED_LIMITS) limits[name] = device.limits[name];
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    backend,
    isSoftware: text.includes('swiftshader') || (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true,
    limits,
    features: [...device.features].sort(),
  };
}

interface FoundAdapter {
  adapter: GPUAdapter;
  backend: string;
  /** Node: the Dawn instance (a GPU object) the adapter came from. */
  instance?: GPU;
  /** Why the default adapters were passed over. */
  reason?: string;
}

/**
 * Dawn instances by the devices made from them. dawn.node keeps processing an
 * instance's events while its device lives but does not keep the instance alive:
 * if the GPU object is collected first, the process aborts in ProcessEvents.
 */
const instanceOf = new WeakMap<GPUDevice, GPU>();

function isNode(): boolean {
  // Not `typeof navigator`: Node 21+ has a navigator too, without `gpu`.
  return typeof process !== 'undefined' && !!process.versions?.node;
}

async function nodeAdapter(options: GetDeviceOptions): Promise<FoundAdapter> {
  const tried: string[] = [];
  let webgpu: typeof import('webgpu');
  try {
    webgpu = await import('webgpu');
  } catch (cause) {
    throw new NoWebGPUError(
      [`import the npm package 'webgpu' (Dawn): ${(cause as Error).message}`],
      'run `npm ci` in the project folder (the `webgpu` package is a dependency).',
    );
  }
  // Vulkan's window-system code prints an error on every instance when this is unset, as on
  // headless machines; compute never uses it, so pointing it at an existing folder quiets it.
  if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = (await import('node:os')).tmpdir();
  // WebGPU's constants (GPUBufferUsage, GPUMapMode, ...) are globals in a browser; make them so in Node.
  if (typeof globalThis.GPUBufferUsage === 'undefined') Object.assign(globalThis, webgpu.globals);
  const request = { powerPreference: options.powerPreference ?? 'high-performance' } as const;
  // Dawn rounds timestamp queries to 65,536 ns by default (a browser's guard against timing
  // attacks); a process of one's own has nothing to guard, and kernels on a real GPU take a few µs.
  const toggles = ['disable-dawn-features=timestamp_quantization'];

  let reason: string | undefined;
  if (options.forceSwiftShader) {
    reason = 'SwiftShader asked for';
  } else if (!(await mayHaveGpu())) {
    reason = `no GPU device node (${GPU_DEVICE_NODES})`;
    tried.push(`Dawn with its default backends: not tried, ${reason}`);
  } else {
    const instance = webgpu.create(toggles);
    const adapter = await instance.requestAdapter(request);
    if (adapter) return { adapter, backend: 'dawn-default', instance };
    tried.push('Dawn with its default backends: no adapter');
    reason = 'Dawn found no default adapter';
  }

  const { existsSync } = await import('node:fs');
  const icd = process.env.VK_ICD_FILENAMES || SWIFTSHADER_ICD;
  if (existsSync(icd)) {
    // The Vulkan loader reads this when Dawn creates its instance, so setting it now is enough.
    process.env.VK_ICD_FILENAMES = icd;
    const instance = webgpu.create(['backend=vulkan', ...toggles]);
    const adapter = await instance.requestAdapter(request);
    if (adapter) return { adapter, backend: 'dawn-swiftshader', instance, reason };
    tried.push(`Dawn on Vulkan with VK_ICD_FILENAMES=${icd}: no adapter (is libvulkan1 installed?)`);
  } else {
    tried.push(`SwiftShader's Vulkan driver at ${icd}: file not found`);
  }
  throw new NoWebGPUError(
    tried,
    'on a machine without a GPU, install Debian\'s chromium, which ships SwiftShader, and the Vulkan loader: ' +
      '`apt-get install -y chromium libvulkan1`; with a GPU, install its Vulkan driver.',
  );
}

/** The device nodes a GPU's driver opens on Linux: DRM render nodes, NVIDIA's, WSL's. */
const GPU_DEVICE_NODES = '/dev/dri/renderD*, /dev/nvidia*, /dev/dxg';

/**
 * False only on Linux with none of GPU_DEVICE_NODES: then every Vulkan device is a CPU one
 * (lavapipe, SwiftShader) and Dawn's default probe has nothing to find. Other systems: true.
 */
async function mayHaveGpu(): Promise<boolean> {
  if (process.platform !== 'linux') return true;
  const { existsSync, readdirSync } = await import('node:fs');
  const has = (dir: string, pattern: RegExp) => {
    try {
      return readdirSync(dir).some((name) => pattern.test(name));
    } catch {
      return false;
    }
  };
  return has('/dev/dri', /^renderD\d+$/) || has('/dev', /^nvidia\d+$/) || existsSync('/dev/dxg');
}

async function browserAdapter(options: GetDeviceOptions): Promise<FoundAdapter> {
  const fix =
    'use a browser with WebGPU (Chrome or Edge 113+, or Chromium with --enable-unsafe-webgpu) and serve the page ' +
    'from http://localhost or https: WebGPU needs a secure context.';
  if (typeof navigator === 'undefined' || !navigator.gpu) {
    const secure = typeof isSecureContext === 'undefined' ? 'unknown' : String(isSecureContext);
    throw new NoWebGPUError([`navigator.gpu: missing (secure context: ${secure})`], fix);
  }
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) throw new NoWebGPUError(['navigator.gpu.requestAdapter(): null'], fix);
  return { adapter, backend: 'browser' };
}
