import { describe, expect, it } from 'vitest';
import { providerCandidates, providerFailureReason } from '../../../src/backends/onnx/providers.ts';

describe('providerFailureReason', () => {
  it("keeps what an ORT check says after 'was false.', not its source location and function signature", () => {
    const ort =
      '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const ' +
      'onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. ' +
      'Failed to get a WebGPU adapter: No supported adapters\n';
    expect(providerFailureReason(new Error(ort))).toBe('Failed to get a WebGPU adapter: No supported adapters');
  });
  it('keeps the first line of any other message, at most 200 characters', () => {
    expect(providerFailureReason(new Error('libcudnn.so.9: cannot open shared object file\nmore'))).toBe('libcudnn.so.9: cannot open shared object file');
    expect(providerFailureReason('x'.repeat(300))).toHaveLength(200);
  });
});

describe('providerCandidates', () => {
  it('is the CPU alone for cpu, and never the CPU for gpu', () => {
    expect(providerCandidates('cpu')).toEqual(['cpu']);
    expect(providerCandidates('gpu')).not.toContain('cpu');
  });
});
