/**
 * The style predictor's precision rule (runtime/arbitrary/predictor-precision.ts), without loading a model:
 * 'auto' is int8 only on the CPU, for an ONNX target, with a weights file that carries activation scales.
 */
import { describe, expect, it } from 'vitest';
import { predictorPrecisionPlan, resolvePredictorPrecision, type PrecisionContext } from '../../../src/runtime/arbitrary/predictor-precision.ts';
import { UserError } from '../../../src/util/errors.ts';

const CPU: PrecisionContext = { device: 'cpu', target: 'onnx' };
const GPU: PrecisionContext = { device: 'gpu', target: 'onnx' };
const TFJS: PrecisionContext = { device: 'cpu', target: 'tfjs' };

describe('resolvePredictorPrecision', () => {
  it("auto: int8 on the CPU when the file carries activation scales (Magenta's .tflite predictor), else float32", () => {
    expect(resolvePredictorPrecision('auto', CPU, true)).toBe('int8');
    expect(resolvePredictorPrecision('auto', {}, true)).toBe('int8'); // the defaults are the CPU and ONNX
    expect(resolvePredictorPrecision('auto', CPU, false)).toBe('float32'); // a float file: no calibration by default
  });

  it('auto: float32 on the GPU and for a tfjs export, scales or not', () => {
    for (const ctx of [GPU, TFJS, { device: 'gpu', target: 'tfjs' } as const])
      for (const scales of [true, false]) expect(resolvePredictorPrecision('auto', ctx, scales)).toBe('float32');
  });

  it('float32 is float32 everywhere; int8 is int8 on the CPU, on the file\'s scales or calibrated', () => {
    for (const ctx of [CPU, GPU, TFJS]) expect(resolvePredictorPrecision('float32', ctx, true)).toBe('float32');
    expect(resolvePredictorPrecision('int8', CPU, true)).toBe('int8');
    expect(resolvePredictorPrecision('int8', CPU, false)).toBe('int8');
  });

  it('int8 where it cannot run is a user error, not a fallback', () => {
    expect(() => resolvePredictorPrecision('int8', GPU, true)).toThrow(new UserError("the int8 style predictor runs on ONNX Runtime's CPU provider only, not on the GPU: use predictor precision float32 or auto"));
    expect(() => resolvePredictorPrecision('int8', TFJS, true)).toThrow(/not for a tfjs export/);
  });
});

describe('predictorPrecisionPlan', () => {
  it('says before the file is read whether its activation scales decide', () => {
    expect(predictorPrecisionPlan('auto', CPU)).toBe('int8-if-scales');
    expect(predictorPrecisionPlan('auto', GPU)).toBe('float32');
    expect(predictorPrecisionPlan('int8', CPU)).toBe('int8');
    expect(predictorPrecisionPlan('float32', CPU)).toBe('float32');
  });
});
