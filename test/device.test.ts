import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { formatAdapter, getDevice, NoWebGPUError, SWIFTSHADER_ICD, type GpuContext } from '../src/gpu/device.js';

describe('getDevice in Node', () => {
  let gpu: GpuContext;
  afterAll(() => gpu?.device.destroy());

  it('finds an adapter by itself (SwiftShader when there is no GPU) and reports it', async () => {
    // Keeping this thread's priority, so that the probes below start from the process's.
    gpu = await getDevice({ yieldToSoftwareGpu: false });
    const { report, adapter, device } = gpu;
    expect(report.backend).toMatch(/^dawn-/);
    expect(formatAdapter(report)).toContain(report.description || report.device);
    // The device carries the adapter's real limits, not WebGPU's defaults.
    expect(report.limits.maxStorageBufferBindingSize).toBe(adapter.limits.maxStorageBufferBindingSize);
    expect(device.limits.maxComputeWorkgroupStorageSize).toBe(adapter.limits.maxComputeWorkgroupStorageSize);
    if (report.backend === 'dawn-swiftshader') expect(report.isSoftware).toBe(true);
  });

  it('runs a compute shader', async () => {
    const { device } = gpu;
    const n = 1000; // not a multiple of the workgroup size
    const module = device.createShaderModule({
      code: `@group(0) @binding(0) var<storage, read_write> values: array<f32>;
             @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {
               if (id.x < arrayLength(&values)) { values[id.x] = values[id.x] * 2.0 + 1.0; }
             }`,
    });
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const input = Float32Array.from({ length: n }, (_, i) => i - 500.5);
    const storage = device.createBuffer({ size: input.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(storage, 0, input);
    const readback = device.createBuffer({ size: input.byteLength, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: storage } }] }));
    pass.dispatchWorkgroups(Math.ceil(n / 64));
    pass.end();
    encoder.copyBufferToBuffer(storage, 0, readback, 0, input.byteLength);
    device.queue.submit([encoder.finish()]);
    await readback.mapAsync(GPUMapMode.READ);
    expect(new Float32Array(readback.getMappedRange().slice(0))).toEqual(input.map((v) => v * 2 + 1));
    readback.unmap();
  });

  it('says what it tried and how to fix it when there is no adapter', async () => {
    const saved = process.env.VK_ICD_FILENAMES;
    process.env.VK_ICD_FILENAMES = '/nonexistent/vk_icd.json';
    try {
      const error = await getDevice({ forceSwiftShader: true }).catch((e) => e);
      expect(error).toBeInstanceOf(NoWebGPUError);
      expect(error.tried).toEqual(["SwiftShader's Vulkan driver at /nonexistent/vk_icd.json: file not found"]);
      expect(error.message).toMatch(/apt-get install -y chromium libvulkan1/);
      expect(error.message).not.toContain('\n'); // one line, as the command line prints it
    } finally {
      if (saved === undefined) delete process.env.VK_ICD_FILENAMES;
      else process.env.VK_ICD_FILENAMES = saved;
    }
  });
});

// getDevice's yieldToSoftwareGpu (src/gpu/device.ts), in a process of its own (the priority it
// lowers is the calling thread's, for good): through the built bundle a user imports.
describe.runIf(process.platform === 'linux')('the waiting thread yields to SwiftShader in Node', () => {
  const probe = `
    import { getDevice, WAITING_THREAD_NICE } from ${JSON.stringify(new URL('../dist/node.js', import.meta.url).href)};
    import { getPriority } from 'node:os';
    import { readdirSync, readFileSync } from 'node:fs';
    const before = getPriority(0);
    const { report, device } = await getDevice({ forceSwiftShader: true, yieldToSoftwareGpu: process.argv[1] !== 'keep' });
    // Field 19 of /proc/<pid>/task/<tid>/stat is the thread's nice value.
    const threads = readdirSync('/proc/self/task').map((t) => ({
      name: readFileSync('/proc/self/task/' + t + '/comm', 'utf8').trim(),
      nice: Number(readFileSync('/proc/self/task/' + t + '/stat', 'utf8').split(') ')[1].split(' ')[16]),
    }));
    console.log(JSON.stringify({ before, after: getPriority(0), reported: report.waitingThreadNice, lowest: WAITING_THREAD_NICE, threads }));
    device.destroy();`;
  const run = (...args: string[]) => {
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', probe, ...args], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`the probe failed (is dist/node.js built? npm test builds it): ${child.stderr}`);
    return JSON.parse(child.stdout.trim().split('\n').pop()!);
  };

  it("lowers the calling thread to the lowest priority, and leaves SwiftShader's threads at the process's", () => {
    const { before, after, reported, lowest, threads } = run();
    // Under `nice -n 19 npm test` there is nothing lower to go to: then only that it stays.
    if (before >= lowest) console.warn(`the tests run at nice ${before}: the probe cannot see the priority lowered`);
    expect([after, reported]).toEqual([Math.max(before, lowest), Math.max(before, lowest)]);
    const swiftShader = threads.filter((t: { name: string }) => /^Thread<\d+>$/.test(t.name));
    expect(swiftShader.length).toBeGreaterThan(0);
    for (const t of swiftShader) expect(t.nice).toBe(before);
  });

  // Threads take the priority of the thread that makes them: a second device made after the drop would
  // get a queue thread at the lowest priority (runs after the first in a process were 1.4x slower).
  const reuse = `
    import { Gpu } from ${JSON.stringify(new URL('../dist/node.js', import.meta.url).href)};
    import { readdirSync, readFileSync } from 'node:fs';
    const lowered = () => readdirSync('/proc/self/task').filter((t) => Number(readFileSync('/proc/self/task/' + t + '/stat', 'utf8').split(') ')[1].split(' ')[16]) > 0).length;
    const first = await Gpu.create({ forceSwiftShader: true });
    await first.upload(new Float32Array(8)).read();
    const threads = lowered();
    first.close();
    const second = await Gpu.create({ forceSwiftShader: true });
    await second.upload(new Float32Array(8)).read();
    const afterSecond = lowered();
    const third = await Gpu.create({ forceSwiftShader: true });
    console.log(JSON.stringify({ reused: second.device === first.device, fresh: third.device !== second.device, threads, afterSecond, afterThird: lowered() }));
    second.close();
    third.close();`;

  it('hands a closed Gpu\'s device to the next Gpu.create, so no thread is made at the lowest priority', () => {
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', reuse], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`the probe failed (is dist/node.js built? npm test builds it): ${child.stderr}`);
    const { reused, fresh, threads, afterSecond, afterThird } = JSON.parse(child.stdout.trim().split('\n').pop()!);
    expect(reused).toBe(true);
    expect(threads).toBeGreaterThan(0);
    expect(afterSecond).toBe(threads);
    // A Gpu created while the kept device is in use gets a device of its own, and its threads the lowest priority.
    expect(fresh).toBe(true);
    expect(afterThird).toBeGreaterThan(threads);
  });

  // Vitest ends a test file's worker thread after its last afterAll; with a pipeline still compiling
  // there, Dawn's binding aborted the whole process ("Promise not resolved or rejected:
  // createComputePipelineAsync()"). Gpu.close() now settles pending compilations first.
  const closing = `
    import { Worker } from 'node:worker_threads';
    const worker = new Worker(\`
      import { parentPort } from 'node:worker_threads';
      import { Gpu } from \${JSON.stringify(${JSON.stringify(new URL('../dist/node.js', import.meta.url).href)})};
      const gpu = await Gpu.create({ forceSwiftShader: true });
      const x = gpu.upload(new Float32Array(64));
      const code = '@group(0) @binding(1) var<storage, read_write> x: array<f32>; @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) { x[g.x] = x[g.x] * 2.0 + 1.0; }';
      gpu.prepare('pending', code, 'main', [x], [1]).catch(() => {});
      await gpu.close();
      parentPort.postMessage('closed');\`, { eval: true, type: 'module' });
    worker.on('message', (m) => { console.log(m); worker.terminate(); });
    worker.on('exit', () => console.log('worker ended'));`;

  it('settles pending pipeline compilations before Gpu.close() hands the device back, so a thread can end', () => {
    const env = { ...process.env, VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES || SWIFTSHADER_ICD };
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', closing], { encoding: 'utf8', env, timeout: 60_000 });
    expect(child.stderr).not.toMatch(/Promise not resolved/);
    expect({ status: child.status, lines: child.stdout.trim().split('\n') }).toEqual({ status: 0, lines: ['closed', 'worker ended'] });
  });

  it('leaves the priority alone when asked to', () => {
    const { before, after, reported } = run('keep');
    expect(after).toBe(before);
    expect(reported).toBeUndefined();
  });
});
