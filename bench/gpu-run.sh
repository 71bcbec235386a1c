#!/usr/bin/env bash
# The real-GPU run (issue #15): on a machine lent by the library's `device` tool, with what
# scripts/gpu-carry.sh packed into .gpu/ (Node, Dawn, the Vulkan loader, the bundles, imdb.npz):
#   device run  carry: [".gpu"]  command: bash bench/gpu-run.sh
# Each step has its own time limit and the steps run most important first, so a run cut short
# still returns what it finished: $OUT/gpu-run.log (everything printed) and $OUT/results.tar.gz
# (every JSON the steps wrote, and each training run's history.json). `QUICK=1` shrinks every step
# (a dry run of the plumbing on SwiftShader here); `ONLY="train best"` runs only the steps named. Needs nothing installed on the machine but a
# Vulkan driver; PyTorch, where the machine has it, runs the CUDA side by side.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/results/tmp/gpu}
mkdir -p "$OUT"
log="$OUT/gpu-run.log"
exec > >(tee -a "$log") 2>&1
started=$(date +%s)
stamp=$(mktemp) # results newer than this are the run's
# Training runs' folders (weights, checkpoints, history.json) stay out of $OUT, which returns at most
# 8 files: only gpu-run.log, files.txt and results.tar.gz go there.
RUNS=${RUNS:-/tmp/sg-runs}
rm -rf "$RUNS" && mkdir -p "$RUNS"

# ---- the carried tools ----
G=.gpu
if [ -z "${QUICK:-}" ]; then
  for f in "$G"/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$nvidia_icd" ] && export VK_DRIVER_FILES=$nvidia_icd
mkdir -p /tmp/sg-bin && xz -dc "$G/node.xz" > /tmp/sg-bin/node && chmod +x /tmp/sg-bin/node
export PATH=/tmp/sg-bin:$PATH
if [ -z "${QUICK:-}" ]; then
  mkdir -p node_modules/webgpu/dist/linux-x64
  cp "$G"/webgpu/* node_modules/webgpu/
  xz -dc "$G/dawn.node.xz" > node_modules/webgpu/dist/linux-x64/dawn.node
  rm -rf dist && cp -r "$G/dist" dist
fi
export IMDB_NPZ=$PWD/$G/imdb.npz
echo "== $(date -u +%FT%TZ) $(uname -m), $(nproc) cores, node $(node -v)"
nvidia-smi -L 2>/dev/null || echo "(no nvidia-smi)"
[ -f "${VK_DRIVER_FILES:-}" ] && { lib=$(ldconfig -p | grep -m1 -o '/.*libGLX_nvidia.so.0'); echo "Vulkan driver $VK_DRIVER_FILES: ${lib:-libGLX_nvidia.so.0 not found}"; [ -n "$lib" ] && ldd "$lib" | grep 'not found'; }
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv 2>/dev/null

# The whole run ends by DEADLINE seconds (the device call's own limit is set a little above it).
DEADLINE=${DEADLINE:-480}

# Packs what the steps have written so far into $OUT/results.tar.gz (after every step: a run
# killed at the call's limit still returns it).
collect() {
  { find bench/results -maxdepth 1 -newer "$stamp" \( -name '*.json' -o -name '*.svg' \); find "$RUNS" -name history.json; } > "$OUT/files.txt"
  tar czPf "$OUT/results.tar.gz" -T "$OUT/files.txt"
}

# step NAME SECONDS COMMAND...: run one step under its own limit (cut to what is left before
# DEADLINE; skipped under 20 s), log its time and status, collect.
step() {
  local name=$1 limit=$2
  shift 2
  if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]]; then return; fi
  local left=$((DEADLINE - ($(date +%s) - started)))
  [ "$limit" -gt "$left" ] && limit=$left
  echo
  if [ "$limit" -lt 20 ]; then echo "== step $name: skipped, ${left}s left"; return; fi
  echo "== step $name (limit ${limit}s, $(($(date +%s) - started))s into the run): $*"
  local t0=$(date +%s)
  timeout --kill-after=5 "$limit" "$@"
  echo "== step $name: exit $? after $(($(date +%s) - t0))s"
  collect
}
q() { [ -n "${QUICK:-}" ] && echo "$1" || echo "$2"; }

# 1. The tutorial, as a user runs it (fused path, 40 epochs), twice: the second with warm caches.
for i in 1 2; do step "tutorial-$i" 90 node dist/cli.js train --epochs "$(q 2 40)" --out "$RUNS/tutorial-$i"; done
# 2. Every executor on the tutorial, 40 epochs each, in one process (bench/results/train.json).
step train 150 node dist/bench/train.js --epochs "$(q 1 40)" --executors fused,captured,eager
# 3. Kernel throughput against the copy kernel (the kernel page's measurement, in Node).
step kernels 90 node dist/bench/kernels.js --batches "$(q 64 64,256,512,1024)" --repeats "$(q 2 50)" --out bench/results/node-kernels.json
# The device's own copy bandwidth (CUDA, through PyTorch where the machine has it), for the kernels' ceiling.
py=python3
for p in /opt/torch/.venv/bin/python3 /usr/bin/python3; do [ -x "$p" ] && { py=$p; break; }; done
step cuda-copy 30 "$py" -c "import torch, time
x = torch.empty(2**28, device='cuda'); y = torch.empty_like(x)
for _ in range(3): y.copy_(x)
torch.cuda.synchronize(); t = time.perf_counter(); n = 20
for _ in range(n): y.copy_(x)
torch.cuda.synchronize(); dt = (time.perf_counter() - t) / n
print('torch %s on %s: device-to-device copy of 1 GiB in %.3f ms, %.0f GB/s (bytes read + written)' % (torch.__version__, torch.cuda.get_device_name(), dt * 1e3, 2 * x.numel() * 4 / dt / 1e9))"
# 4. Where a step's time goes, per executor, with timestamp queries where the device has them.
step profile 90 node dist/bench/profile.js --epochs "$(q 1 3)"
# 5. Keras' fastText example with bigrams (1.2M rows, LazyAdam), 5 epochs, n-grams built included.
step fasttext-bigram 120 node dist/cli.js train --recipe fasttext-bigram $(q "--limit 2000 --epochs 1" "") --out "$RUNS/fasttext-bigram"
# The `best` recipe as a user runs it: the search's winner refit on every training review, then tested.
step best 150 node dist/cli.js train --recipe best $(q "--limit 6000 --epochs 1" "") --out "$RUNS/best"
# Where a bigram step's GPU time goes (timestamp queries), as the bench README's SwiftShader profile.
step profile-bigram 60 node dist/bench/profile.js --recipe fasttext-bigram --executors captured --epochs "$(q 1 3)" $(q "--limit 2000" "")
# 6. The `best` recipe's search: validation split only, the winner evaluated once on the test set.
step best-search "$(q 60 200)" node dist/bench/best-search.js --budget-seconds "$(q 30 170)" $(q "--limit 2000" "") --out bench/results/best-search.json
# 7. PyTorch on the same GPU (CUDA), the tutorial alternately with shadergrad, where it is installed.
step peer-cuda 120 node dist/bench/peer.js --rounds 2 --epochs "$(q 1 40)" --python "$py" --torch-device "$(q cpu cuda)" --out bench/results/peer-cuda.json
# 8. Epoch time against table rows, data and batch (bench/results/scaling.json).
step scaling 120 node dist/bench/scaling.js --epochs "$(q 1 2)"

echo
echo "== done in $(($(date +%s) - started))s"
collect
cat "$OUT/files.txt"
