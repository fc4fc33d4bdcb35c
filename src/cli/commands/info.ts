/**
 * `stc info <spec> [--network NAME] [--size HxW]`: parameter count, a FLOPs-per-layer table and
 * the forward pass's activation memory (liveness analysis) at the given size (default 256x256).
 */
import { memoryProfile } from '../../compiler/passes/memory.ts';
import { countParams, flopsPerLayer } from '../../compiler/passes/stats.ts';
import { specialize } from '../../compiler/passes/specialize.ts';
import { ShapeError } from '../../compiler/ir/ops.ts';
import { UserError } from '../../util/errors.ts';
import { loadSpec, pickNetwork, sizeEnv } from '../load-spec.ts';
import { parseSize } from '../flags.ts';
import { DEVICE_FLAGS, parseDevice } from '../device-option.ts';
import { emittedNodeCount } from '../../backends/onnx/index.ts';
import { bindWeights } from '../../weights/index.ts';
import type { Register } from './index.ts';

const fmt = (n: number) => n.toLocaleString('en-US');
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function human(flops: number): string {
  if (flops >= 1e9) return `${(flops / 1e9).toFixed(2)} G`;
  if (flops >= 1e6) return `${(flops / 1e6).toFixed(2)} M`;
  if (flops >= 1e3) return `${(flops / 1e3).toFixed(2)} k`;
  return String(flops);
}

export const register: Register = (program) => {
  program
    .command('info')
    .description('parameter count and FLOPs per layer')
    .argument('<spec>', 'spec file')
    .option('--network <name>', 'network (default: the main network)')
    .option('--size <HxW>', 'input size for FLOPs (default 256x256)', '256x256')
    .option(DEVICE_FLAGS, 'also print the ONNX node count of the inference graph compiled for this device (each node is a GPU dispatch)')
    .action(async (spec: string, flags: { network?: string; size: string; device?: string }) => {
      const device = parseDevice(flags.device);
      const net = pickNetwork(loadSpec(spec), flags.network);
      const size = parseSize(flags.size);
      let g;
      try {
        g = specialize(net.graph, sizeEnv(net.graph, size));
      } catch (e) {
        if (e instanceof ShapeError) throw new UserError(`${net.name} at ${size.height}x${size.width}: ${e.message}`);
        throw e;
      }
      const rows = flopsPerLayer(g);
      const total = rows.reduce((s, r) => s + r.flops, 0);
      const mem = memoryProfile(g);
      const at = g.nodes[mem.peakNode];
      const w = Math.max(5, ...rows.map((r) => r.layer.length));
      const out = [
        `network ${net.name}`,
        `parameters: ${fmt(countParams(net.graph))} (trainable ${fmt(countParams(net.graph, { trainableOnly: true }))})`,
        `FLOPs at ${size.height}x${size.width} (2 per multiply-accumulate):`,
        `  ${'layer'.padEnd(w)}  ${'op'.padEnd(16)}  ${'output'.padEnd(20)}  FLOPs`,
        ...rows.map((r) => `  ${r.layer.padEnd(w)}  ${r.op.padEnd(16)}  ${`[${r.outputShape.join(',')}]`.padEnd(20)}  ${human(r.flops)}`),
        `total: ${fmt(total)} FLOPs (${human(total)})`,
        `memory at ${size.height}x${size.width}, batch 1, forward: activations peak ${mib(mem.peakBytes)}${at ? ` (at ${at.layer ?? at.id})` : ''}; ` +
          `inputs and weights ${mib(mem.residentBytes)} (liveness in node order, before backend passes)`,
      ];
      if (device) {
        // Seeded random weights: the count depends on the graph, not on the values.
        const nodes = emittedNodeCount(g, await bindWeights(g, { kind: 'random', seed: 1 }, { specDir: net.specDir }), { device });
        out.push(`ONNX nodes for --device ${device}: ${nodes.nodes} (${nodes.byOp.map(([op, n]) => `${op} ${n}`).join(', ')})`);
      }
      process.stdout.write(`${out.join('\n')}\n`);
    });
};
