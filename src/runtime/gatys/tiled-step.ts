/**
 * Tiled Gatys: one evaluation of the whole image's objective, and its gradient, through graphs that
 * only ever see one tile (tile-graphs.ts), so the memory is that of a tile whatever the image size.
 *
 * Per evaluation, for a tile layout (tiles.ts) that moves every iteration:
 *   1. each tile's forward pass gives its masked Gram sums; summed, they are the whole image's Grams G_l
 *      (every position counted once), so the style is judged on the whole image, the same everywhere;
 *   2. the host computes each style layer's loss E_l(G_l) and ∂L/∂G_l (tile-objective.ts);
 *   3. each tile's forward + backward pass of ⟨∂L/∂G_l, G_l,t⟩ + its content part gives its share of the
 *      image gradient, added (halo included) into the whole image's;
 *   4. the host adds total variation over the whole image.
 * This is the exact gradient of the tiled objective: two forward passes and one backward per tile.
 *
 * The style targets are computed once on the whole style image, by the same tiled Gram sums (the style
 * image may be as large as the output). Gatys Grams scale with the number of positions M, so the targets
 * are kept per position and scaled by the output's M (as compiler/objective/build.ts rescales them).
 * The content targets are per tile (the content image's features of the same tile) and cached per tile
 * position: the layouts cycle through four offsets.
 */
import type { Graph, HostTensor } from '../../compiler/ir/types.ts';
import type { ObjectiveSpec } from '../../compiler/objective/types.ts';
import { differentiate, defaultGradName } from '../../compiler/passes/autodiff/index.ts';
import { foldInputNormalisation } from '../../backends/onnx/optimize/index.ts';
import type { BackendOptions, CompiledModel, WeightMap } from '../../backends/types.ts';
import { collectGarbage } from '../../backends/collect-garbage.ts';
import type { RgbImage } from '../image-types.ts';
import { STEP_WINOGRAD } from './engine.ts';
import { buildTileGraphs, largestStride, STEP_LOSS, type TileGraphs } from './tile-graphs.ts';
import { styleLayerLoss, tiledObjective, totalVariation, type TiledObjective } from './tile-objective.ts';
import { addTile, cropTile, tileLayout, tileMask, tileOffset, tileOverlap, type Tile } from './tiles.ts';
import type { StepFn } from './types.ts';
import { UserError } from '../../util/errors.ts';

export interface TiledEngineOptions {
  readonly lossNet: Graph;
  readonly objective: ObjectiveSpec;
  /** Bind the loss network's weights for a graph built from it. */
  readonly loadWeights: (g: Graph) => Promise<WeightMap>;
  /** The content image, at the output size: it sets the size of the optimised image. */
  readonly content: RgbImage;
  readonly styles: readonly RgbImage[];
  /** Blend weights, summing to 1, one per style image. */
  readonly blend: readonly number[];
  /** Tile side in pixels (halo included). */
  readonly tile: number;
  /** Halo width; default tileOverlap (an eighth of the tile). */
  readonly overlap?: number;
  readonly backendOptions?: BackendOptions;
}

export interface TiledEngine {
  readonly step: StepFn;
  /** Move the tile grid (call once per iteration). */
  advance(): void;
  /** Tiles per layout and the tile shape, for reports. */
  readonly tiles: number;
  readonly tileShape: { readonly width: number; readonly height: number };
  dispose(): Promise<void>;
}

const tensor = (shape: number[], data: Float32Array): HostTensor => ({ shape, data });

interface Masks {
  readonly perTile: readonly Record<string, HostTensor>[];
  /** Counted positions over the whole layout, per tap. */
  readonly counts: ReadonlyMap<string, number>;
}

function layoutMasks(tiles: readonly Tile[], g: TileGraphs): Masks {
  const counts = new Map<string, number>();
  const perTile = tiles.map((t) => {
    const feeds: Record<string, HostTensor> = {};
    for (const [tap, [, h, w]] of g.tapShapes) {
      const m = tileMask(t, h, w);
      feeds[`mask.${tap}`] = tensor([1, 1, h, w], m.data);
      counts.set(tap, (counts.get(tap) ?? 0) + m.count);
    }
    return feeds;
  });
  return { perTile, counts };
}

/** Σ over a layout's tiles of the stats graph's masked Grams (float64), and the counted positions. */
async function gramSums(stats: CompiledModel, g: TileGraphs, img: RgbImage, tiles: readonly Tile[], obj: TiledObjective): Promise<{ sums: Map<string, Float64Array>; counts: ReadonlyMap<string, number> }> {
  const masks = layoutMasks(tiles, g);
  const sums = new Map(obj.style.map((s) => [s.tap, new Float64Array(g.tapShapes.get(s.tap)![0] ** 2)]));
  for (const [i, t] of tiles.entries()) {
    const crop = tensor([1, 3, t.y.length, t.x.length], cropTile(img.data, img.width, img.height, t));
    const feeds: Record<string, HostTensor> = { [g.imageInput]: crop };
    for (const s of obj.style) feeds[`mask.${s.tap}`] = masks.perTile[i]![`mask.${s.tap}`]!;
    const out = await stats.run(feeds);
    for (const s of obj.style) {
      const acc = sums.get(s.tap)!;
      const d = out[`gram.${s.tap}`]!.data;
      for (let k = 0; k < acc.length; k++) acc[k] += d[k]!;
    }
  }
  return { sums, counts: masks.counts };
}

/**
 * The style targets per position, Â_l = Σ_k b_k R_l^(k) / M_l^(k): each style image's Gram sums over a tiling of
 * the whole image (offset 0), divided by its counted positions, blended.
 */
async function styleTargetsPerPosition(
  o: TiledEngineOptions,
  obj: TiledObjective,
  g: TileGraphs,
  weights: WeightMap,
  compileStats: (sg: TileGraphs, w: WeightMap) => Promise<CompiledModel>,
): Promise<Map<string, Float64Array>> {
  const perPosition = new Map(obj.style.map((s) => [s.tap, new Float64Array(g.tapShapes.get(s.tap)![0] ** 2)]));
  for (const [k, style] of o.styles.entries()) {
    const sg = buildTileGraphs(o.lossNet, obj, Math.min(o.tile, style.height), Math.min(o.tile, style.width));
    const overlap = o.overlap ?? tileOverlap(o.tile, largestStride(sg, Math.min(o.tile, style.height)));
    const model = await compileStats(sg, weights);
    try {
      const { sums, counts } = await gramSums(model, sg, style, tileLayout(style.width, style.height, o.tile, overlap, { x: 0, y: 0 }), obj);
      for (const [tap, acc] of perPosition) {
        const r = sums.get(tap)!;
        const f = o.blend[k]! / counts.get(tap)!;
        for (let i = 0; i < acc.length; i++) acc[i] += f * r[i]!;
      }
    } finally {
      await model.dispose();
    }
  }
  return perPosition;
}

interface StepContext {
  readonly g: TileGraphs;
  readonly obj: TiledObjective;
  readonly W: number;
  readonly H: number;
  readonly th: number;
  readonly tw: number;
  readonly stats: CompiledModel;
  readonly stepModel: CompiledModel;
  readonly gradName: string;
  readonly perPosition: ReadonlyMap<string, Float64Array>;
  readonly layout: () => { readonly tiles: readonly Tile[]; readonly masks: Masks };
  readonly contentTargets: (t: Tile) => Promise<Record<string, HostTensor>>;
}

/** One evaluation over the current layout: the two passes over the tiles and the host's terms (module comment). */
function tiledStep(c: StepContext): StepFn {
  const { g, obj, W, H, th, tw, stats, stepModel, gradName, perPosition, layout, contentTargets } = c;
  return async (x) => {
    const { tiles, masks } = layout();
    const img = { width: W, height: H, data: x };
    const dgram: Record<string, HostTensor> = {};
    let style = 0;
    if (obj.style.length > 0) {
      const { sums } = await gramSums(stats, g, img, tiles, obj);
      for (const s of obj.style) {
        const [c] = g.tapShapes.get(s.tap)!;
        const m = masks.counts.get(s.tap)!;
        const pp = perPosition.get(s.tap)!;
        const target = Float64Array.from(pp, (v) => (s.norm === 'gatys' ? v * m : v / c));
        const r = styleLayerLoss(sums.get(s.tap)!, target, c, m, s.norm, s.weight);
        style += r.loss;
        dgram[`dgram.${s.tap}`] = tensor([1, c, c], r.dRaw);
      }
    }
    const cweights: Record<string, HostTensor> = {};
    for (const c of obj.content) {
      const [ch] = g.tapShapes.get(c.tap)!;
      const w = c.mean ? c.weight / (ch * masks.counts.get(c.tap)!) : c.weight;
      cweights[`cweight.${c.tap}`] = tensor([], Float32Array.of(w));
    }
    const grad = new Float32Array(x.length);
    let content = 0;
    for (const [i, t] of tiles.entries()) {
      const out = await stepModel.run({
        [g.imageInput]: tensor([1, 3, th, tw], cropTile(x, W, H, t)),
        ...masks.perTile[i]!,
        ...dgram,
        ...cweights,
        ...(await contentTargets(t)),
      });
      addTile(grad, W, H, t, out[gradName]!.data);
      for (const c of obj.content) content += cweights[`cweight.${c.tap}`]!.data[0]! * out[`csum.${c.tap}`]!.data[0]!;
    }
    const terms: Record<string, number> = {};
    if (obj.content.length > 0) terms.content = content;
    if (obj.style.length > 0) terms.style = style;
    let loss = content + style;
    if (obj.tv && obj.tv.weight !== 0) {
      const tv = totalVariation(x, W, H, obj.tv.weight, obj.tv.mean);
      for (let i = 0; i < grad.length; i++) grad[i] += tv.grad[i]!;
      terms.tv = tv.loss;
      loss += tv.loss;
    }
    return { loss, terms, grad };
  };
}

export async function createTiledEngine(o: TiledEngineOptions): Promise<TiledEngine> {
  const { OnnxBackend } = await import('../../backends/onnx/index.ts');
  const backend = new OnnxBackend();
  const obj = tiledObjective(o.objective);
  const { width: W, height: H } = o.content;
  const th = Math.min(o.tile, H);
  const tw = Math.min(o.tile, W);
  const g = buildTileGraphs(o.lossNet, obj, th, tw);
  const align = largestStride(g, th);
  const overlap = o.overlap ?? tileOverlap(o.tile, align);
  const core = o.tile - 2 * overlap;
  if (core < align) throw new UserError(`--tile ${o.tile} leaves no room inside its ${overlap}-pixel overlap; use at least ${2 * overlap + align}`);
  const bo: BackendOptions = { nchwc: false, reluGrad: 'where', winograd: o.backendOptions?.device === 'gpu' ? false : STEP_WINOGRAD, ...o.backendOptions };
  let weights: WeightMap | undefined = await o.loadWeights(g.step);

  const perPosition = await styleTargetsPerPosition(o, obj, g, weights, (sg, w) => backend.compile(sg.stats, w, { ...bo, winograd: false }));
  const stats = await backend.compile(g.stats, weights, bo);
  const contentModel = obj.content.length > 0 ? await backend.compile(g.content, weights, bo) : undefined;
  const gradName = defaultGradName(g.imageInput);
  const stepModel = await backend.compile(differentiate(foldInputNormalisation(g.step), { loss: STEP_LOSS, wrt: [g.imageInput] }), weights, bo);
  weights = undefined;
  collectGarbage();

  const contentCache = new Map<string, Record<string, HostTensor>>();
  const contentTargets = async (t: Tile): Promise<Record<string, HostTensor>> => {
    const key = `${t.x.start},${t.y.start}`;
    let hit = contentCache.get(key);
    if (!hit && contentModel) {
      const out = await contentModel.run({ [g.imageInput]: tensor([1, 3, th, tw], cropTile(o.content.data, W, H, t)) });
      hit = {};
      for (const c of obj.content) hit[`target.${c.tap}`] = out[`feat.${c.tap}`]!;
      contentCache.set(key, hit);
    }
    return hit ?? {};
  };

  let iteration = 0;
  const layouts = new Map<number, { tiles: Tile[]; masks: Masks }>();
  const layout = () => {
    const k = iteration % 4;
    let l = layouts.get(k);
    if (!l) {
      const tiles = tileLayout(W, H, o.tile, overlap, tileOffset(k, core, align));
      l = { tiles, masks: layoutMasks(tiles, g) };
      layouts.set(k, l);
    }
    return l;
  };

  const step = tiledStep({ g, obj, W, H, th, tw, stats, stepModel, gradName, perPosition, layout, contentTargets });

  return {
    step,
    advance: () => void iteration++,
    tiles: layout().tiles.length,
    tileShape: { width: tw, height: th },
    async dispose() {
      await stepModel.dispose();
      await stats.dispose();
      await contentModel?.dispose();
    },
  };
}
