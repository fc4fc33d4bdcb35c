/** Reverse-mode autodiff over the IR. */
export { differentiate, defaultGradName, type DifferentiateOptions } from './autodiff.ts';
export { VJP_RULES, isForwardOp, type ForwardOp, type GradientOnlyOp } from './vjp/index.ts';
