/**
 * The IR graphs of tiled Gatys for one tile shape (all built from the loss network pruned to the taps):
 *
 * - `stats`:   tile, masks → `gram.<tap>` = (F ⊙ m)(F ⊙ m)ᵀ, the tile's raw Gram sums over its counted
 *              positions (m is 0/1 per position, tiles.ts), for every style tap;
 * - `content`: tile → `feat.<tap>`, the content image's features (the per-tile content targets);
 * - `step`:    tile, masks, `dgram.<tap>` (∂L/∂G of the whole image, from the host), `target.<tap>` and
 *              `cweight.<tap>` → `loss` = Σ_style ⟨dgram, G_t⟩ + Σ_content cweight · Σ m (F − P)²,
 *              whose image gradient is exactly this tile's share of the whole image's gradient (the
 *              style loss is linear in each tile's Gram once ∂L/∂G is fixed), and `csum.<tap>`, the
 *              content sums, for reporting the loss.
 */
import { GraphBuilder } from '../../compiler/ir/builder.ts';
import { dimVars } from '../../compiler/ir/dim.ts';
import type { Graph } from '../../compiler/ir/types.ts';
import { selectOutputs } from '../../compiler/passes/prune.ts';
import { concreteShapeOf, specialize } from '../../compiler/passes/specialize.ts';
import type { TiledObjective } from './tile-objective.ts';

export interface TileGraphs {
  readonly stats: Graph;
  readonly content: Graph;
  readonly step: Graph;
  readonly imageInput: string;
  /** [C, h, w] of every tapped feature map at this tile shape. */
  readonly tapShapes: ReadonlyMap<string, readonly [number, number, number]>;
}

export const STEP_LOSS = 'loss';

/** The loss network pruned to `taps` and specialised to one H×W image (N = 1). */
export function lossNetAt(net: Graph, taps: readonly string[], H: number, W: number): Graph {
  const used = new Map(taps.map((t) => [t, net.taps.get(t) ?? missing(net, t)]));
  const pruned = selectOutputs(net, used);
  const env: Record<string, number> = {};
  for (const id of pruned.inputs)
    for (const [i, d] of pruned.values.get(id)!.shape.entries())
      for (const v of dimVars(d)) env[v] = i === 0 ? 1 : i === 2 ? H : W;
  return specialize(pruned, env);
}

function missing(net: Graph, tap: string): never {
  throw new Error(`tiled Gatys: the loss network has no tap ${tap} (taps: ${[...net.taps.keys()].join(', ')})`);
}

function maskedGram(b: GraphBuilder, f: string, mask: string, c: number, hw: number): string {
  const masked = b.add('mul', [f, mask], {}, {}, `${f}_masked`);
  const flat = b.add('reshape', [masked], { shape: [1, c, hw] }, {}, `${f}_mflat`);
  return b.add('matmul', [flat, flat], { transB: true }, {}, `${f}_tgram`);
}

function sumAll(b: GraphBuilder, v: string, stem: string): string {
  return b.add('reduceSum', [v], { axes: b.shape(v).map((_, i) => i), keepDims: false }, {}, stem);
}

export function buildTileGraphs(lossNet: Graph, obj: TiledObjective, H: number, W: number): TileGraphs {
  const styleTaps = obj.style.map((s) => s.tap);
  const contentTaps = [...new Set(obj.content.map((c) => c.tap))];
  const taps = [...new Set([...styleTaps, ...contentTaps])];
  const net = lossNetAt(lossNet, taps, H, W);
  const imageInput = net.inputs[0]!;
  const tapShapes = new Map<string, readonly [number, number, number]>();
  for (const t of taps) {
    const [, c, h, w] = concreteShapeOf(net, net.taps.get(t)!);
    tapShapes.set(t, [c!, h!, w!]);
  }
  const withMasks = (b: GraphBuilder, which: readonly string[]): Map<string, string> =>
    new Map(which.map((t) => [t, b.input(`mask.${t}`, [1, 1, tapShapes.get(t)![1], tapShapes.get(t)![2]])]));

  const sb = GraphBuilder.from(net);
  const sMasks = withMasks(sb, styleTaps);
  const statsOut = new Map<string, string>();
  for (const t of styleTaps) {
    const [c, h, w] = tapShapes.get(t)!;
    statsOut.set(`gram.${t}`, maskedGram(sb, net.taps.get(t)!, sMasks.get(t)!, c, h * w));
  }
  const stats = selectOutputs(sb.build(), statsOut);

  const content = selectOutputs(net, new Map(contentTaps.map((t) => [`feat.${t}`, net.taps.get(t)!])));

  const b = GraphBuilder.from(net);
  const masks = withMasks(b, taps);
  const parts: string[] = [];
  const outs = new Map<string, string>();
  for (const t of styleTaps) {
    const [c, h, w] = tapShapes.get(t)!;
    const g = maskedGram(b, net.taps.get(t)!, masks.get(t)!, c, h * w);
    const d = b.input(`dgram.${t}`, [1, c, c]);
    parts.push(sumAll(b, b.add('mul', [g, d], {}, {}, `${t}_lin`), `${t}_style_lin`));
  }
  for (const t of contentTaps) {
    const f = net.taps.get(t)!;
    const p = b.input(`target.${t}`, b.shape(f));
    const diff = b.add('sub', [f, p], {}, {}, `${t}_cdiff`);
    const sum = sumAll(b, b.add('mul', [b.add('mul', [diff, masks.get(t)!], {}, {}, `${t}_cmask`), diff], {}, {}, `${t}_csq`), `${t}_csum`);
    outs.set(`csum.${t}`, sum);
    parts.push(b.add('mul', [sum, b.input(`cweight.${t}`, [])], {}, {}, `${t}_content`));
  }
  if (parts.length === 0) throw new Error('tiled Gatys: the objective has no content or style term');
  const loss = parts.length === 1 ? b.add('scale', [parts[0]!], { value: 1 }, {}, 'tile_loss') : parts.reduce((a, v) => b.add('add', [a, v], {}, {}, 'tile_loss'));
  const step = selectOutputs(b.build(), new Map([[STEP_LOSS, loss], ...outs]));
  return { stats, content, step, imageInput, tapShapes };
}

/** The loss network's largest stride among the tapped layers (tile offsets are multiples of it). */
export function largestStride(g: TileGraphs, H: number): number {
  let s = 1;
  for (const [, h] of g.tapShapes.values()) s = Math.max(s, 2 ** Math.round(Math.log2(H / h)));
  return s;
}

