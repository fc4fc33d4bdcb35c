/**
 * The training step's working memory, estimated before anything is allocated: the step graph (forward,
 * autodiff, Adam) at the configured crop size and batch, measured by liveness (runtime/limits.ts). A crop
 * of 100000 px used to run to 10 GB before failing (issue 21, defect 4).
 */
import { estimateGraphBytes } from '../limits.ts';
import { buildTrainGraph, type TrainGraphOptions } from './train-graph.ts';

export function trainStepBytes(o: TrainGraphOptions): number {
  return estimateGraphBytes(buildTrainGraph(o).graph);
}
