// The tfjs engine: stc's compiled tfjs programs (src/backends/tfjs codegen) on @tensorflow/tfjs (vendored),
// backend WebGPU when the browser has an adapter, else WebGL, else CPU. Same interface as engine-onnx.js.
// '@tensorflow/tfjs' resolves through the page's import map, so the programs and this file share one tfjs.
import * as tf from '@tensorflow/tfjs';

const ORDER = ['webgpu', 'webgl', 'cpu'];

async function tryBackend(name) {
  try {
    if (name === 'webgpu') {
      if (!navigator.gpu || !(await navigator.gpu.requestAdapter())) return false;
      await import('./vendor/tf-backend-webgpu.fesm.min.js');
    }
    if (!(await tf.setBackend(name))) return false;
    await tf.ready();
    // A backend can register but fail its first kernel (WebGL without float textures): probe one op.
    tf.tidy(() => tf.add(tf.ones([1, 2, 2, 1]), 1).dataSync());
    return true;
  } catch {
    return false;
  }
}

export async function createEngine({ backend, maxTexture } = {}) {
  // ?maxTexture=N in the page URL plays a GPU with a smaller WebGL texture limit (to see the page's tiling fall back).
  if (maxTexture) tf.env().set('WEBGL_MAX_TEXTURE_SIZE', maxTexture);
  let chosen = null;
  for (const name of backend ? [backend] : ORDER) {
    if (await tryBackend(name)) {
      chosen = name;
      break;
    }
  }
  if (!chosen) throw new Error(`no tfjs backend started (tried ${(backend ? [backend] : ORDER).join(', ')})`);
  return {
    label() {
      return `tfjs ${tf.getBackend()}`;
    },
    async load(url) {
      const program = await import(new URL(url, location.href).href);
      program.useTfjs(tf);
      return {
        async run(x) {
          const input = tf.tensor4d(x.data, x.shape, 'float32');
          const out = program.predict(input);
          input.dispose();
          const data = await out.data();
          const result = { shape: out.shape.slice(), data };
          out.dispose();
          return result;
        },
        async dispose() {
          program.dispose();
        },
      };
    },
  };
}
