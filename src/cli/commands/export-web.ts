/**
 * `stc export SOURCE... --target web -o site/ [--engine onnx|tfjs] [--model SOURCE]...`: the web target of
 * `stc export`. Each source is a training run folder, an exported .onnx file (engine onnx only) or a .style
 * spec (its main network, or --network, with its weights binding); several make a style picker. A spec whose
 * network takes a style vector (specs/arbitrary.style) gives a painting-as-style page: its predictor and the
 * network, weights bound as `stc transfer` binds them (--weights-dir, --weights, --style-weights), engine onnx only.
 */
import path from 'node:path';
import { readFile, stat } from 'node:fs/promises';
import type { HostTensor } from '../../compiler/ir/types.ts';
import type { Graph } from '../../compiler/ir/types.ts';
import { bindWeights } from '../../weights/index.ts';
import { arbitraryWebModel, webModel } from '../../runtime/web/models.ts';
import { weightOverride } from '../../runtime/arbitrary/pipeline.ts';
import type { CompiledModule, NetworkDef } from '../../compiler/frontend.ts';
import { writeWebSite, type WebStyleModel } from '../../runtime/web/site.ts';
import { WEB_ENGINES, type WebEngine } from '../../runtime/web/site-types.ts';
import { UserError } from '../../util/errors.ts';
import { float16Bytes } from '../../backends/onnx/float16.ts';
import { loadSpec, pickNetwork } from '../load-spec.ts';

export interface WebExportOptions {
  readonly output: string;
  readonly engine?: string;
  readonly model: readonly string[];
  readonly network?: string;
  readonly checkpoint?: string;
  readonly tile?: string;
  /** Arbitrary-style specs: the predictor network's name and weight files (as `stc transfer`). */
  readonly predictor?: string;
  readonly weights?: string;
  readonly styleWeights?: string;
  readonly weightsDir?: string;
  /** `--precision fp16`: each feedforward style's float16 model too (SiteStyle.file16). */
  readonly float16?: boolean;
}

/** A trained network: its graph and weights. */
export interface LoadedNetwork {
  readonly graph: Graph;
  readonly weights: Map<string, HostTensor>;
  readonly from: string;
}

export type RunLoader = (run: string, checkpoint: string | undefined) => Promise<LoadedNetwork>;

function styleName(source: string): string {
  return path.basename(source.replace(/[\\/]+$/, '')).replace(/\.(onnx|style)$/i, '');
}

async function specNetwork(file: string, network: string | undefined): Promise<LoadedNetwork> {
  const net = pickNetwork(loadSpec(file), network);
  const weights = await bindWeights(net.graph, net.weights ?? { kind: 'random', seed: 0 }, { specDir: net.specDir });
  return { graph: net.graph, weights: new Map(weights), from: file };
}

/** A spec whose network takes a style vector (specs/arbitrary.style): the predictor and the network, onnx engine only. */
async function arbitraryModel(name: string, mod: CompiledModule, net: NetworkDef, engine: WebEngine, o: WebExportOptions): Promise<WebStyleModel> {
  if (engine !== 'onnx')
    throw new UserError(`network '${net.name}' is an arbitrary-style network (a painting as the style): the web page runs it with --engine onnx only`);
  const predictor = pickNetwork(mod, o.predictor ?? 'style_predict');
  const transferFile = weightOverride(net, o.weights, o.weightsDir);
  const predictorFile = weightOverride(predictor, o.styleWeights, o.weightsDir);
  const files = { ...(transferFile !== undefined && { transfer: transferFile }), ...(predictorFile !== undefined && { predictor: predictorFile }) };
  return { name, ...(await arbitraryWebModel(name, net, predictor, files)) };
}

async function styleModel(source: string, engine: WebEngine, o: WebExportOptions, loadRun: RunLoader): Promise<WebStyleModel> {
  const name = styleName(source);
  const s = await stat(source).catch(() => undefined);
  if (!s) throw new UserError(`${source} does not exist`);
  if (s.isFile() && /\.onnx$/i.test(source)) {
    if (engine !== 'onnx') throw new UserError(`${source} is an ONNX file: it can only go into an --engine onnx site (give a run folder or a .style spec for tfjs)`);
    return { name, model: new Uint8Array(await readFile(source)) };
  }
  if (s.isFile() && /\.style$/i.test(source)) {
    const mod = loadSpec(source);
    const picked = pickNetwork(mod, o.network);
    if (picked.graph.inputs.length === 2) return arbitraryModel(name, mod, picked, engine, o);
  }
  const net = s.isDirectory() ? await loadRun(source, o.checkpoint) : /\.style$/i.test(source) ? await specNetwork(source, o.network) : undefined;
  if (!net) throw new UserError(`${source} is neither a run folder, an .onnx file nor a .style spec`);
  return { name, model: webModel(engine, name, net.graph, net.weights) };
}

/** The style with its float16 model added (float16.ts), when asked; an arbitrary style keeps float32 only (refused). */
function withFloat16(s: WebStyleModel, float16: boolean): WebStyleModel {
  if (!float16) return s;
  if (s.arbitrary) throw new UserError(`--precision fp16: style ${s.name} is an arbitrary-style network, which the page runs in fp32 only`);
  return { ...s, model16: float16Bytes(s.model as Uint8Array) };
}

export async function exportWeb(sources: readonly string[], o: WebExportOptions, loadRun: RunLoader): Promise<string> {
  const engine = (o.engine ?? 'onnx') as WebEngine;
  if (!WEB_ENGINES.includes(engine)) throw new UserError(`--engine must be ${WEB_ENGINES.join(' or ')}, got '${o.engine}'`);
  if (sources.length === 0) throw new UserError('give a model: stc export RUN|model.onnx|spec.style --target web -o site/ (repeat --model for a style picker)');
  if (o.checkpoint && sources.length > 1) throw new UserError('--checkpoint applies to a single run; export one run at a time');
  let tile: number | undefined;
  if (o.tile !== undefined) {
    tile = Number(o.tile);
    if (!/^\s*\d+\s*$/.test(o.tile) || tile < 16) throw new UserError(`--tile must be an integer ≥ 16, got '${o.tile}'`);
  }
  if (o.float16 && engine !== 'onnx') throw new UserError('--precision fp16 is for --engine onnx (onnxruntime-web on WebGPU), not tfjs');
  const styles: WebStyleModel[] = [];
  for (const source of sources) styles.push(withFloat16(await styleModel(source, engine, o, loadRun), o.float16 === true));
  const summary = await writeWebSite(o.output, { engine, styles, ...(tile !== undefined && { tile }) });
  const names = styles.map((s) => s.name).join(', ');
  return `wrote ${o.output} (${summary.files} files, ${(summary.bytes / 1e6).toFixed(1)} MB, ${engine} engine${o.float16 ? ' with float16 models for WebGPU' : ''}, style${styles.length === 1 ? '' : 's'} ${names}); serve it with: stc serve ${o.output}`;
}
