/** The ONNX backend: emitter, writer and onnxruntime-node runner. */
export { ONNX_IR_VERSION, ONNX_OPSET, buildModelProto, emitModel, type EmitOptions } from './emit.ts';
export { writeModel, type WriteOptions } from './write.ts';
export { float16Bytes, isFloat16Model, toFloat16Model, type Float16Options } from './float16.ts';
export { probeFloat16Gpu, requireFloat16Gpu, type Float16Support } from './float16-device.ts';
export { COLLECT_AFTER_BYTES, GPU_PASSES, OnnxBackend, deviceCopier, emittedNodeCount, type NodeCount, fromOrtTensor, gpuProvider, loadOnnxModel, modelForDevice, probeGpu, sessionOptions, toOrtTensor, type OnnxModel } from './backend.ts';
export { nonFiniteInitializer } from './finite.ts';
export { probeGpuQuietly, type GpuProbe, type QuietProbe } from './probe-quiet.ts';
export { GpuUnavailableError, cudaProviderInstalled, providerCandidates, createSessionOn, type OrtProvider } from './providers.ts';
export { DeviceCopier, isResident, newTransferCounter, type Feed, type ResidentTensor, type TransferCounter } from './resident.ts';
export { finalName, initialName, loopModel, stackedName, type StepLoop } from './step-loop.ts';
