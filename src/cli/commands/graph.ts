/**
 * `stc graph <spec> [--network NAME] [--dot] [--size HxW]`: print a network's IR,
 * as text (one line per operator) or Graphviz DOT; shapes are symbolic unless --size is given.
 */
import { graphToDot, graphToText } from '../../compiler/ir/print.ts';
import { specialize } from '../../compiler/passes/specialize.ts';
import { loadSpec, pickNetwork, sizeEnv } from '../load-spec.ts';
import { parseSize } from '../flags.ts';
import type { Register } from './index.ts';

export const register: Register = (program) => {
  program
    .command('graph')
    .description("print a network's IR (text, or Graphviz DOT with --dot)")
    .argument('<spec>', 'spec file')
    .option('--network <name>', 'network to print (default: the main network)')
    .option('--dot', 'emit Graphviz DOT')
    .option('--size <HxW>', 'bind H and W (N = 1) for concrete shapes')
    .action((spec: string, flags: { network?: string; dot?: boolean; size?: string }) => {
      const net = pickNetwork(loadSpec(spec), flags.network);
      const g = flags.size ? specialize(net.graph, sizeEnv(net.graph, parseSize(flags.size))) : net.graph;
      process.stdout.write(`${flags.dot ? graphToDot(g, net.name) : graphToText(g)}\n`);
    });
};
