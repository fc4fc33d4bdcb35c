/**
 * The contract every backend implements: compile an IR graph with bound
 * weights into something that maps named input tensors to named outputs.
 */
import type { Graph, HostTensor } from '../compiler/ir/types.ts';
import type { WeightMap } from '../compiler/weights.ts';
import type { WinogradOptions } from './onnx/optimize/winograd.ts';

export type { TensorLayout, WeightFormat, WeightMap, WeightMapEntry, WeightSource } from '../compiler/weights.ts';

export interface CompiledModel {
  /** Input names (graph input value ids) and output names (graph output names). */
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Readonly<Record<string, HostTensor>>): Promise<Record<string, HostTensor>>;
  /** Release native resources. */
  dispose(): Promise<void>;
}

/** Where a backend runs: the CPU, or a GPU (ONNX: backends/onnx/providers.ts). */
export type Device = 'cpu' | 'gpu';

export interface BackendOptions {
  /** Intra-op threads; default: all cores. */
  readonly threads?: number;
  /** ONNX: 'gpu' runs on CUDA or WebGPU (see backends/onnx/providers.ts), failing clearly when neither starts; default 'cpu'. */
  readonly device?: Device;
  /**
   * ONNX on WebGPU: the layout the provider computes convolutions in. 'NCHW' (default) keeps the graph's own layout;
   * 'NHWC' (ORT's default) wraps every conv in layout Transposes, and ORT's transpose optimiser then pushed one onto
   * the boolean mask of the windowed max-pool gradient, a type the provider has no Transpose for, so it fell back
   * to the CPU provider with copies around it (test/backends/onnx/gpu-swiftshader.test.ts). Which is faster on a
   * real GPU is not measured yet (docs/benchmarks.md, "GPU").
   */
  readonly webgpuLayout?: 'NCHW' | 'NHWC';
  /** ONNX: run stc's graph optimisation passes (compiler/passes/optimize) before emitting; default true. */
  readonly optimize?: boolean;
  /**
   * ONNX: with `optimize`, compute wide 3×3 convs on large maps as Winograd F(4×4, 3×3)
   * (passes/optimize/winograd.ts); default false here, on for the Gatys engine's CPU step (STEP_WINOGRAD).
   * Faster where it applies (the VGG-19 Gatys step), at a memory cost: its transformed kernels hold 4× the
   * weights they replace (docs/benchmarks.md, "Winograd"). On Johnson-IN's 128-channel convs it saves time per image
   * at inference but adds compile time, so it is off by default: `--winograd auto` turns it on for
   * `stc apply spec.style` on folders and videos, and `stc run --winograd on` opts in (runtime/apply/winograd-choice.ts);
   * no gain in training. An object turns it on with its own
   * thresholds (channels, output pixels). A gradient graph with Winograd convs compiles without NCHWc
   * unless `nchwc` is set (memory; see winogradGradient in OnnxBackend).
   */
  readonly winograd?: boolean | WinogradOptions;
  /** ONNX CPU: keep freed buffers in ORT's memory arena for reuse (faster allocation, higher peak RSS); default true. */
  readonly memArena?: boolean;
  /**
   * ONNX CPU: let ONNX Runtime move convolutions to its blocked NCHWc layout (optimisation level
   * 'all'; off: 'extended'); default true. In a gradient graph the backward ops are not NCHWc-aware,
   * so activations they read are reordered back to NCHW and live in both layouts: off, the VGG-19
   * Gatys step at 512² peaks 19% lower (docs/benchmarks.md, "Memory").
   */
  readonly nchwc?: boolean;
  /**
   * ONNX: how a ReLU's gradient masks dy. 'mul' (default): dy · Cast(y > 0), faster on ONNX Runtime's CPU
   * (its Where with a broadcast scalar is slow). 'where': Where(y > 0, dy, 0), leaner: ORT computes each mask as
   * soon as y exists, so in a gradient graph every layer's mask lives from the forward pass to its backward, and
   * a float mask is 4 bytes per element against a boolean's 1 — on the VGG-19 Gatys step at 512², 1287-1312 MB
   * peak RSS against 1139-1151 MB (docs/benchmarks.md, item 10; the pooled masks of peephole/pool-mask.ts have since
   * narrowed the gap). The tiled Gatys step asks for 'where'; with `device: 'gpu'` it is the default (two nodes, not three:
   * each node is a dispatch there).
   */
  readonly reluGrad?: 'mul' | 'where';
  /**
   * ONNX: plan one memory block per run from the first run's allocation pattern; default false.
   * Measured on every bench job (docs/benchmarks.md, "Memory"): off, peak RSS is 6-45% lower, mostly at
   * the same speed within noise, because the pattern's block is carved from the arena, which grows in
   * powers of two and keeps it.
   */
  readonly memPattern?: boolean;
  /**
   * ONNX CPU: let ONNX Runtime's intra-op worker threads spin while waiting for work (its
   * `session.intra_op.allow_spinning`); default true. Off, an idle worker sleeps: on a loaded machine a
   * spinning worker competes with the thread that has work, and small models (the arbitrary-style predictor,
   * about 60 ops in 5 ms) lose most (docs/benchmarks.md, "arbitrary style transfer").
   */
  readonly spinning?: boolean;
  /**
   * ONNX: outputs that stay where the provider computed them (OnnxModel.runResident): on WebGPU in GPU buffers
   * (ORT's `preferredOutputLocation: 'gpu-buffer'`), to be fed to the next run without a host round trip; on the
   * CPU (and CUDA, whose outputs onnxruntime-node returns on the host) they are host tensors kept opaque.
   */
  readonly residentOutputs?: readonly string[];
  /** ONNX: record ONNX Runtime's per-node profile, written as `<prefix>_<timestamp>.json` when the model is disposed. */
  readonly profilePrefix?: string;
}

export interface Backend {
  readonly name: 'onnx' | 'tfjs' | 'reference';
  compile(g: Graph, weights: WeightMap, opts?: BackendOptions): Promise<CompiledModel>;
}

