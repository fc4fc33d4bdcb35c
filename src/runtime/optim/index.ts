export type { Evaluate, Evaluation, IterationInfo, OnIteration, OptimizeOptions, OptimizeResult, StopReason } from './types.ts';
export { lbfgs, type LbfgsOptions, type LbfgsResult } from './lbfgs.ts';
export { adam, type AdamOptions } from './adam.ts';
export { NonFiniteLossError } from './errors.ts';
