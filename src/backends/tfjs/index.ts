/** The TensorFlow.js backend: backend selection, in-process interpreter, gradients and code generation. */
export { TfjsBackend } from './interpreter.ts';
export { planGraph, type TfjsPlan, type PlanStep, type PlanTensor, type Layout } from './plan.ts';
export {
  selectTfjsBackend,
  ensureTfjsBackend,
  probeTfjsBackends,
  loadTfjs,
  wasmBinaryDir,
  TFJS_BACKEND_ORDER,
  type TfjsBackendKind,
  type TfjsBackendInfo,
  type TfjsBackendProbe,
} from './select.ts';
export { tfjsValueAndGrads, type TfjsValueAndGrads } from './grad.ts';
export { emitTfjsProgram, compileToTfjs, dimToJs, type EmitTfjsOptions } from './codegen.ts';
