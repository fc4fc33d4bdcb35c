/**
 * A full garbage collection of this process's JavaScript heap, for the moments when large arrays have
 * just become garbage and nothing else would collect them soon.
 *
 * Compiling a model for ONNX Runtime builds large short-lived arrays: the constants the optimisation
 * passes derive from frozen weights (each input-gradient conv's rotated kernel, Winograd's transformed
 * kernels). Once the model file is written they are garbage, but V8 frees an ArrayBuffer's memory
 * only when a collection runs, and it schedules one by its own heap's growth and by new ArrayBuffer
 * allocations — neither of which a session run makes (ORT allocates its activations outside V8). So the
 * garbage stayed resident through the first run's activation peak: collecting it took 22-168 MB off the
 * VGG-19 Gatys step's peak RSS, depending on size and Winograd (docs/benchmarks.md, "Memory").
 *
 * `gc` exists only under `--expose-gc`. As Jest does for `--logHeapUsage`, the flag is set at run time
 * and `gc` is taken from a new context; the flag is set once, on the first call, never at import.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/** Run a full, synchronous garbage collection (its cost grows with the live heap). */
export function collectGarbage(): void {
  if (!gc) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) gc = exposed;
    else {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    }
  }
  gc();
}
