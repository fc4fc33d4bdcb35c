/**
 * `stc weights inspect FILE [--network N] [--profile P]`: format, tensor and parameter counts, the
 *   recognised network and layout profile, its preprocessing and the taps the file serves.
 * `stc weights check FILE --network vgg19 [--profile P]`: each conv present (by tensor name),
 *   missing, or of the wrong shape; exit 1 when any is missing or wrong.
 * `stc weights convert FILE -o out.safetensors [--network N] [--profile P]`: the convs in stc's own
 *   names, with the file's input convention folded in (docs/weights.md).
 */
import type { Command } from 'commander';
import { KNOWN_NETWORKS, checkWeights, convertWeights, inspectWeights, rankProfiles, detectWeightFormat, openWeights } from '../../weights/index.ts';
import { UserError } from '../../util/errors.ts';
import { checkOutputFolder } from './prepare.ts';
import type { Register } from './index.ts';

const fmt = (n: number) => n.toLocaleString('en-US');

async function inspect(file: string, f: { network?: string; profile?: string }): Promise<string[]> {
  const r = await inspectWeights(file, f);
  const out = [`file: ${r.path}`, `format: ${r.format}`, `tensors: ${fmt(r.tensors)}, parameters: ${fmt(r.parameters)}`];
  const d = r.detected;
  if (!d) out.push(`network: not recognised (stc knows the layouts of ${KNOWN_NETWORKS.map((n) => n.name).join(', ')})`);
  else {
    const net = KNOWN_NETWORKS.find((n) => n.name === d.network)!;
    out.push(
      `network: ${d.network} (${d.served.length} of ${net.convs.length} convs${d.firstMissing ? `; stops before ${d.firstMissing}` : ''})`,
      `profile: ${d.profile}`,
      `preprocessing: ${d.preprocessing}`,
      `taps: ${d.taps ?? 'none'}`,
    );
  }
  for (const n of r.notes) out.push(`note: ${n}`);
  return out;
}

/** The network to convert or check: the flag, else the one the file is recognised as. */
async function networkOf(file: string, flag: string | undefined): Promise<string> {
  if (flag !== undefined) return flag;
  const f = await openWeights(await detectWeightFormat(file), file);
  const best = rankProfiles(f.entries)[0];
  f.close?.();
  if (!best) throw new UserError(`cannot tell which network ${file} holds: pass --network (${KNOWN_NETWORKS.map((n) => n.name).join(', ')})`);
  return best.profile.network.name;
}

export const register: Register = (program: Command, setExit) => {
  const cmd = program.command('weights').description('inspect, check and convert weight files (.pth, .caffemodel, .h5, .mat, .onnx, ...)');
  cmd
    .command('inspect')
    .description('format, tensor count, parameters, the recognised network and layout, and the taps it serves')
    .argument('<file>', 'weight file or folder')
    .option('--network <name>', 'read it as this network (vgg19, vgg16, squeezenet1_1)')
    .option('--profile <id>', 'layout profile in place of recognition (torchvision, caffe, keras, matconvnet, onnx-zoo, onnx-caffe2, stc)')
    .action(async (file: string, f: { network?: string; profile?: string }) => {
      process.stdout.write(`${(await inspect(file, f)).join('\n')}\n`);
    });
  cmd
    .command('check')
    .description("which of a network's layers the file holds, which are missing, and shape mismatches, by tensor name")
    .argument('<file>', 'weight file or folder')
    .requiredOption('--network <name>', 'vgg19, vgg16 or squeezenet1_1')
    .option('--profile <id>', 'layout profile in place of recognition')
    .action(async (file: string, f: { network: string; profile?: string }) => {
      const r = await checkWeights(file, f.network, f.profile);
      const w = Math.max(...r.rows.map((x) => x.conv.length));
      const lines = [`profile: ${r.profile}`, ...r.rows.map((x) => `${x.conv.padEnd(w)}  ${x.status.padEnd(7)}  ${x.detail}`)];
      const bad = r.rows.filter((x) => x.status !== 'present');
      lines.push(bad.length === 0 ? `all ${r.rows.length} layers present` : `${r.rows.length - bad.length} of ${r.rows.length} layers present; first missing or wrong: ${bad[0]!.conv}`);
      process.stdout.write(`${lines.join('\n')}\n`);
      if (bad.length) setExit(1);
    });
  cmd
    .command('convert')
    .description("write the file's layers in stc's own names as safetensors (input convention folded in)")
    .argument('<file>', 'weight file or folder')
    .requiredOption('-o, --output <file>', 'output .safetensors')
    .option('--network <name>', 'network (default: the one recognised)')
    .option('--profile <id>', 'layout profile in place of recognition')
    .action(async (file: string, f: { output: string; network?: string; profile?: string }) => {
      await checkOutputFolder(f.output);
      const network = await networkOf(file, f.network);
      const r = await convertWeights(file, network, f.output, f.profile !== undefined ? { profile: f.profile } : {});
      process.stderr.write(`weights convert: ${r.tensors} tensors of ${network} (${r.profile}) -> ${f.output}\n`);
    });
};
