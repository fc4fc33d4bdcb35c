/**
 * How one scale of a Gatys run steps under `--tile` and `--max-memory` (one budget for both uses of the flag):
 *
 * - an explicit tile smaller than the image is kept, or shrunk to the largest tile whose tiled run fits the
 *   budget (tile-memory.ts);
 * - otherwise the whole image's step is checked against the budget (activations at the liveness peak plus
 *   inputs and weights, runtime/limits.ts, as for every command); over it, the largest tile that fits is used
 *   instead, and when tiling cannot help (another backend, a term tiles do not support, even the smallest tile
 *   over the budget) the step is refused with a UserError naming --size and --max-memory.
 *
 * Everything here runs on graphs alone, before any weights are read.
 */
import type { ObjectiveGraphs } from '../../compiler/objective/build.ts';
import type { Graph } from '../../compiler/ir/types.ts';
import type { ObjectiveSpec } from '../../compiler/objective/types.ts';
import { UserError } from '../../util/errors.ts';
import { checkMemory } from '../limits.ts';
import { gatysStepBytes, type GatysBackendName } from './engine.ts';
import type { OptimizerName } from './run.ts';
import { chooseTile, estimateTiledBytes } from './tile-memory.ts';
import { tiledObjective } from './tile-objective.ts';

/** Tile sides are multiples of this, and at least MIN_TILE (chooseTile's grid). */
const TILE_GRID = 32;
const MIN_TILE = 2 * TILE_GRID;

export interface StepPlanInput {
  readonly lossNet: Graph;
  readonly objective: ObjectiveSpec;
  /** The optimised image as the loss network sees it (the reflected margin included). */
  readonly padded: { readonly width: number; readonly height: number };
  /** The output at this scale, for messages (what --size asked for). */
  readonly content: { readonly width: number; readonly height: number };
  readonly backend: GatysBackendName;
  readonly optimizer: OptimizerName;
  /** `--tile`. */
  readonly tile?: number;
  /** `--max-memory`, bytes; absent: no check. */
  readonly maxMemory?: number;
  /** The whole image's objective graphs (built only when the plan needs them). */
  readonly build: () => ObjectiveGraphs;
  readonly phase: (what: string) => void;
}

/** The whole image with its graphs, or tiles of one side; `budgeted`: the side came from --max-memory. */
export type StepPlan = { readonly kind: 'whole'; readonly graphs: ObjectiveGraphs } | { readonly kind: 'tiled'; readonly tile: number; readonly budgeted: boolean };

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

export function planStep(p: StepPlanInput): StepPlan {
  const longSide = Math.max(p.padded.width, p.padded.height);
  if (p.tile !== undefined && p.tile < longSide) return explicitTile(p, p.tile);
  const graphs = p.build();
  if (p.maxMemory === undefined) return { kind: 'whole', graphs };
  const bytes = gatysStepBytes(graphs);
  if (bytes <= p.maxMemory) return { kind: 'whole', graphs };
  const what = `the Gatys step at ${p.content.height}x${p.content.width} (--size)`;
  const tiled = budgetTile(p, longSide);
  if (typeof tiled === 'string') {
    try {
      checkMemory(bytes, p.maxMemory, what);
    } catch (e) {
      if (e instanceof UserError) throw new UserError(`${e.message}; ${tiled}`);
      throw e;
    }
    throw new Error(`step-plan: ${bytes} bytes over ${p.maxMemory} passed checkMemory`);
  }
  p.phase(`--max-memory ${gib(p.maxMemory)}: the whole step needs an estimated ${gib(bytes)}; ${tiled.tile}-pixel tiles (estimated peak ${gib(tiled.bytes)})`);
  return { kind: 'tiled', tile: tiled.tile, budgeted: true };
}

function explicitTile(p: StepPlanInput, tile: number): StepPlan {
  if (p.backend !== 'onnx') throw new UserError('--tile needs the onnx backend');
  if (p.maxMemory === undefined) return { kind: 'tiled', tile, budgeted: false };
  const { width, height } = p.padded;
  if (estimateTiledBytes(p.lossNet, p.objective, width, height, tile, p.optimizer).bytes <= p.maxMemory) return { kind: 'tiled', tile, budgeted: false };
  const e = chooseTile(p.lossNet, p.objective, width, height, p.maxMemory, p.optimizer);
  if (!e) throw new UserError(`--tile ${tile}: even ${MIN_TILE}-pixel tiles of ${p.objective.lossNet} at ${p.content.width}x${p.content.height} need more than ${gib(p.maxMemory)} (estimated; --max-memory)`);
  p.phase(`--max-memory ${gib(p.maxMemory)}: ${e.tile}-pixel tiles instead of --tile ${tile} (estimated peak ${gib(e.bytes)})`);
  return { kind: 'tiled', tile: Math.min(tile, e.tile), budgeted: true };
}

/** The largest tile under the budget, smaller than the image; or why tiling cannot help. */
function budgetTile(p: StepPlanInput, longSide: number): { readonly tile: number; readonly bytes: number } | string {
  if (p.backend !== 'onnx') return 'tiles, which would lower it, need --backend onnx';
  try {
    tiledObjective(p.objective);
  } catch (e) {
    if (e instanceof UserError) return `tiles cannot lower it: ${e.message}`;
    throw e;
  }
  const { width, height } = p.padded;
  const e = chooseTile(p.lossNet, p.objective, width, height, p.maxMemory!, p.optimizer);
  if (!e) return `even ${MIN_TILE}-pixel tiles need an estimated ${gib(estimateTiledBytes(p.lossNet, p.objective, width, height, MIN_TILE, p.optimizer).bytes)} (tile-memory.ts)`;
  if (e.tile < longSide) return e;
  // The tiled model fits the whole image where the step's did not: the next smaller tile fits too (the estimate grows with the tile).
  const tile = TILE_GRID * (Math.ceil(longSide / TILE_GRID) - 1);
  if (tile < MIN_TILE) return `the image is too small to tile (${MIN_TILE}-pixel tiles at least)`;
  return estimateTiledBytes(p.lossNet, p.objective, width, height, tile, p.optimizer);
}
