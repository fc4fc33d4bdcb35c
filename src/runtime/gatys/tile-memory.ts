/**
 * `--max-memory`: the largest tile whose tiled Gatys run fits a memory budget, from the compiled
 * graphs' liveness analysis (compiler/passes/memory.ts, what `stc info` reports) rather than trial runs.
 *
 * The model of a tiled run's peak resident memory:
 *   ORT_OVERHEAD × (peak live bytes of the step (forward + backward), of the stats and of the content
 *   graphs: each ONNX Runtime session keeps an arena as large as its own peak)
 *   + the weights, once per session (three sessions)
 *   + the host's whole-image buffers: image, gradient, padded copies and the optimiser's state
 *     (L-BFGS: 2·history float64 vectors), and the cached content targets (four layouts)
 *   + BASE_BYTES (Node, onnxruntime and sharp themselves).
 * The constants are measured: docs/quality.md, "High resolution", gives the run that checks them.
 */
import type { Graph } from '../../compiler/ir/types.ts';
import type { ObjectiveSpec } from '../../compiler/objective/types.ts';
import { memoryProfile } from '../../compiler/passes/memory.ts';
import { differentiate } from '../../compiler/passes/autodiff/index.ts';
import { foldInputNormalisation } from '../../backends/onnx/optimize/index.ts';
import { buildTileGraphs, largestStride, STEP_LOSS } from './tile-graphs.ts';
import { tiledObjective } from './tile-objective.ts';
import { axisSpans, tileOverlap } from './tiles.ts';

/** Node + onnxruntime + sharp resident before any model (measured: ~350 MB). */
export const BASE_BYTES = 450 * 2 ** 20;
/** ORT's arenas round allocations up and keep some slack over the liveness bound. */
export const ORT_OVERHEAD = 1.3;

export interface TileEstimate {
  readonly tile: number;
  readonly overlap: number;
  readonly bytes: number;
}

/** Estimated peak bytes of a tiled run with `tile`-pixel tiles on a width×height image. */
export function estimateTiledBytes(net: Graph, spec: ObjectiveSpec, width: number, height: number, tile: number, optimizer: 'lbfgs' | 'adam', history = 10): TileEstimate {
  const obj = tiledObjective(spec);
  const th = Math.min(tile, height);
  const tw = Math.min(tile, width);
  const g = buildTileGraphs(net, obj, th, tw);
  const align = largestStride(g, th);
  const overlap = tileOverlap(tile, align);
  const step = memoryProfile(differentiate(foldInputNormalisation(g.step), { loss: STEP_LOSS, wrt: [g.imageInput] }));
  const stats = memoryProfile(g.stats);
  const content = memoryProfile(g.content);
  const pixels = 3 * width * height;
  const hostVectors = optimizer === 'lbfgs' ? 2 * history * 8 + 4 * 8 + 8 * 4 : 4 * 8 + 8 * 4;
  const tiles = axisSpans(width, tile, overlap, 0).length * axisSpans(height, tile, overlap, 0).length;
  let contentBytes = 0;
  for (const c of obj.content) {
    const [ch, h, w] = g.tapShapes.get(c.tap)!;
    contentBytes += 4 * ch * h * w * tiles * 4;
  }
  const bytes =
    ORT_OVERHEAD * (step.peakBytes + stats.peakBytes + content.peakBytes) + step.residentBytes * 3 + pixels * hostVectors + contentBytes + BASE_BYTES;
  return { tile, overlap, bytes };
}

/**
 * The largest tile (a multiple of 32 pixels, at least 64) whose estimate fits `budgetBytes`; undefined
 * when even the smallest does not. A tile as large as the image means no tiling is needed.
 */
export function chooseTile(net: Graph, spec: ObjectiveSpec, width: number, height: number, budgetBytes: number, optimizer: 'lbfgs' | 'adam'): TileEstimate | undefined {
  const longSide = Math.max(width, height);
  const fits = (t: number): TileEstimate | undefined => {
    const e = estimateTiledBytes(net, spec, width, height, t, optimizer);
    return e.bytes <= budgetBytes ? e : undefined;
  };
  let lo = 2;
  let hi = Math.ceil(longSide / 32);
  let best = fits(hi * 32);
  if (best) return best;
  best = fits(lo * 32);
  if (!best) return undefined;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    const e = fits(mid * 32);
    if (e) (lo = mid), (best = e);
    else hi = mid;
  }
  return best;
}
