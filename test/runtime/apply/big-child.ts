/**
 * Child process for the memory test: stylise argv[3] into argv[4] with model argv[2] (automatic
 * tiling), then print the process's peak resident set size in bytes.
 */
import { loadImageModel } from '../../../src/runtime/apply/model.ts';
import { applyToImage } from '../../../src/runtime/apply/apply.ts';

const [model, input, output] = process.argv.slice(2) as [string, string, string];
const m = await loadImageModel(model, { threads: 2 });
let tiles = 0;
// as the CLI does: tiles normalised with whole-image statistics (a statistics pass at up to 1 Mpx first)
await applyToImage(m.run, input, output, { onTile: (_, total) => (tiles = total), ...(m.tileRunner && { tileRunner: m.tileRunner }) });
await m.dispose();
process.stdout.write(JSON.stringify({ maxRssBytes: process.resourceUsage().maxRSS * 1024, tiles }));
