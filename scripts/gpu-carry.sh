#!/usr/bin/env bash
# Packs what bench/gpu-run.sh needs on a lent GPU machine (the library's `device` tool) into .gpu/,
# an ignored folder that the tool carries (`carry: [".gpu"]`): this machine's Node (xz), Dawn's
# dawn.node (xz) with the `webgpu` package's loader, the Vulkan loader (Debian's libvulkan1), the
# built bundles (no source maps, no pages) and imdb.npz. About 50 MiB; the tool's limit is 64 MiB.
#   bash scripts/gpu-carry.sh [path/to/imdb.npz]   (default: $IMDB_NPZ, then ../shared/data/imdb.npz)
set -euo pipefail
cd "$(dirname "$0")/.."
npz=${1:-${IMDB_NPZ:-../shared/data/imdb.npz}}
[ -f "$npz" ] || { echo "gpu-carry: no imdb.npz at $npz" >&2; exit 1; }
node scripts/build.mjs
rm -rf .gpu && mkdir -p .gpu/webgpu .gpu/dist/bench
xz -T0 -6 -c "$(command -v node)" > .gpu/node.xz
xz -T0 -9 -c node_modules/webgpu/dist/linux-x64/dawn.node > .gpu/dawn.node.xz
cp node_modules/webgpu/index.js node_modules/webgpu/package.json .gpu/webgpu/
cp dist/*.js .gpu/dist/ && cp dist/bench/*.js .gpu/dist/bench/
cp "$npz" .gpu/imdb.npz
# The Vulkan loader and GL vendor-neutral dispatch (NVIDIA's Vulkan driver, libGLX_nvidia, loads
# through libglvnd), as amd64 (the device machine's processor), from Debian's archive.
lists=$(mktemp -d) && mkdir -p "$lists/partial"
apt=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
apt-get "${apt[@]}" update >/dev/null 2>&1
(cd .gpu && apt-get "${apt[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
rm -rf "$lists"
ls .gpu/*.deb >/dev/null
du -sh .gpu
