#!/bin/bash
# Packs what bench/device-gpu.sh needs on a bare device machine (no Node.js, no network) into the ignored
# folders .devpack/ and .gl/, which the device tool carries: a Node binary, the runtime closure of
# node_modules (from package-lock.json: tsx, onnxruntime-node with its linux-x64 binaries only, onnx-proto,
# chevrotain, commander; type-only packages left out) and Debian's Vulkan loader for ORT's WebGPU provider.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .devpack .gl
grep -qx '/.devpack/' .git/info/exclude || echo '/.devpack/' >>.git/info/exclude
grep -qx '/.gl/' .git/info/exclude || echo '/.gl/' >>.git/info/exclude
xz -T2 -6 -c "$(command -v node)" >.devpack/node.xz
node --input-type=module -e '
import fs from "node:fs";
const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8")).packages;
const find = (from, name) => {
  for (let base = from; ; ) {
    const key = (base ? base + "/" : "") + "node_modules/" + name;
    if (lock[key]) return key;
    if (!base) return null;
    const i = base.lastIndexOf("/node_modules/");
    base = i < 0 ? "" : base.slice(0, i);
  }
};
const ok = (p) => (!p.os || p.os.includes("linux")) && (!p.cpu || p.cpu.includes("x64")) && (!p.libc || p.libc.includes("glibc"));
const seen = new Set();
const visit = (key) => {
  if (!key || seen.has(key) || !ok(lock[key])) return;
  seen.add(key);
  for (const d of Object.keys({ ...lock[key].dependencies, ...lock[key].optionalDependencies })) visit(find(key, d));
};
for (const root of ["tsx", "onnxruntime-node", "onnx-proto", "chevrotain", "commander"]) visit(find("", root));
console.log([...seen].filter((k) => !/@types\/|undici-types|type-fest/.test(k)).join("\n"));
' >.devpack/closure.txt
tar -cJf .devpack/nm.tar.xz --exclude='node_modules/onnxruntime-node/bin/napi-v6/darwin' \
  --exclude='node_modules/onnxruntime-node/bin/napi-v6/win32' --exclude='node_modules/onnxruntime-node/bin/napi-v6/linux/arm64' \
  -T .devpack/closure.txt
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
mkdir -p /tmp/amd64/partial
apt-get $o update >/dev/null
(cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
du -sh .devpack .gl
