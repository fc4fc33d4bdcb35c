/**
 * The stdlib's pretrained networks find their weights as a user's would (src/weights/resolve.ts):
 * tests point $STC_WEIGHTS at ../shared/weights, where `vgg19-keras-partial/` and `squeezenet1_1/`
 * match the names `vgg19` and `squeezenet1_1`, and $STC_GOLDEN_DATA at ../shared for `stc verify`'s
 * goldens. Without ../shared the tests that need them skip.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const shared = join(import.meta.dirname, '../../shared');
if (process.env['STC_WEIGHTS'] === undefined && existsSync(join(shared, 'weights'))) process.env['STC_WEIGHTS'] = join(shared, 'weights');
// `stc verify`'s goldens written with real weights name them relative to this folder (src/verify/goldens.ts).
if (process.env['STC_GOLDEN_DATA'] === undefined && existsSync(shared)) process.env['STC_GOLDEN_DATA'] = shared;
