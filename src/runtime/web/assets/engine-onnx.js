// The onnx engine: onnxruntime-web (vendored), WebGPU when the browser has an adapter, else WASM
// (SIMD, with threads when the page is cross-origin isolated: `stc serve` sends COOP/COEP for that).
// Engine interface (shared with engine-tfjs.js): createEngine({ backend }) -> { label(), load(url, url16?) },
// load -> { run({ shape, data }, extra?) -> Promise<{ shape, data }>, dispose() }, tensors NCHW float32 RGB 0..255.
// `extra` feeds further inputs by name (the arbitrary kind's style vector); the image goes to the other input.
import * as ort from './vendor/ort.webgpu.bundle.min.mjs';

const ORDER = ['webgpu', 'wasm'];

async function hasWebGpu() {
  try {
    return Boolean(navigator.gpu && (await navigator.gpu.requestAdapter()));
  } catch {
    return false;
  }
}

// A float16 model runs only on WebGPU with shader-f16: onnxruntime's WebGPU provider does not fall back for
// float16 nodes, it fails on the first float16 shader (seen on onnxruntime-node over SwiftShader, issue 19).
async function hasShaderF16() {
  try {
    const adapter = navigator.gpu && (await navigator.gpu.requestAdapter());
    return Boolean(adapter && adapter.features.has('shader-f16'));
  } catch {
    return false;
  }
}

export async function createEngine({ backend } = {}) {
  ort.env.wasm.wasmPaths = new URL('./vendor/', import.meta.url).href;
  const threads = globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
  ort.env.wasm.numThreads = threads;
  let candidates = backend ? [backend] : ORDER;
  if (!backend && !(await hasWebGpu())) candidates = candidates.filter((b) => b !== 'webgpu');
  let chosen = null;
  let half = false;
  const errors = [];
  const fetched = new Map();
  async function fetchBytes(url) {
    if (!fetched.has(url)) {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`cannot load ${url}: HTTP ${res.status}`);
      fetched.set(url, new Uint8Array(await res.arrayBuffer()));
    }
    return fetched.get(url);
  }

  async function session(bytes, ep) {
    return ort.InferenceSession.create(bytes, { executionProviders: [ep], graphOptimizationLevel: 'all' });
  }

  return {
    label() {
      if (!chosen) return 'onnxruntime-web';
      return chosen === 'wasm' ? `onnxruntime-web wasm (SIMD, ${threads} thread${threads === 1 ? '' : 's'})` : `onnxruntime-web ${chosen}${half ? ' (float16)' : ''}`;
    },
    async load(url, url16) {
      let s = null;
      fetched.clear();
      for (const ep of chosen ? [chosen] : candidates) {
        const f16 = Boolean(url16) && ep === 'webgpu' && (await hasShaderF16());
        const bytes = await fetchBytes(f16 ? url16 : url);
        try {
          s = await session(bytes, ep);
          chosen = ep;
          half = f16;
          break;
        } catch (e) {
          errors.push(`${ep}: ${e.message}`);
        }
      }
      if (!s) throw new Error(`onnxruntime-web could not load ${url} (${errors.join('; ')})`);
      const output = s.outputNames[0];
      return {
        async run(x, extra = {}) {
          const input = s.inputNames.find((n) => !(n in extra));
          const feeds = { [input]: new ort.Tensor('float32', x.data, x.shape) };
          for (const [n, t] of Object.entries(extra)) feeds[n] = new ort.Tensor('float32', t.data, t.shape);
          const out = await s.run(feeds);
          const t = out[output];
          const data = t.location === 'cpu' ? t.data : await t.getData();
          const result = { shape: t.dims.map(Number), data: data instanceof Float32Array ? data : Float32Array.from(data) };
          for (const v of Object.values(out)) v.dispose?.();
          return result;
        },
        async dispose() {
          await s.release();
        },
      };
    },
  };
}
