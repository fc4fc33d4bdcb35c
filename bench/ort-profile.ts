/**
 * Reading ONNX Runtime's profile (the JSON trace `enableProfiling` writes) in the bench tools.
 */
export interface ProfileEvent {
  readonly cat: string;
  readonly name: string;
  readonly ts: number;
  readonly dur: number;
  readonly args?: {
    readonly op_name?: string;
    readonly provider?: string;
    readonly input_type_shape?: Record<string, number[]>[];
    readonly output_type_shape?: Record<string, number[]>[];
  };
}

/** Control-flow ops: their kernel time contains their subgraphs' nodes, which ORT profiles too. */
const CONTROL_FLOW = new Set(['Loop', 'If', 'Scan']);

/**
 * The kernel-time events of the nodes that compute (a Loop's body nodes, not the Loop, whose span holds them):
 * summing these counts each kernel once. The training step runs as a Loop (backends/onnx/step-loop.ts).
 */
export function kernelEvents(events: readonly ProfileEvent[]): ProfileEvent[] {
  return events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && !CONTROL_FLOW.has(e.args?.op_name ?? ''));
}

/** Each computing node's fastest kernel event (kernelEvents), one per node name. */
export function fastestPerNode(events: readonly ProfileEvent[]): ProfileEvent[] {
  const best = new Map<string, ProfileEvent>();
  for (const e of kernelEvents(events)) {
    const b = best.get(e.name);
    if (!b || e.dur < b.dur) best.set(e.name, e);
  }
  return [...best.values()];
}
