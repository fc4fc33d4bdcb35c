/**
 * The stdlib's pretrained networks find their weights as a user's would (src/weights/resolve.ts):
 * tests point $STC_WEIGHTS at ../shared/weights, where `vgg19-keras-partial/` and `squeezenet1_1/`
 * match the names `vgg19` and `squeezenet1_1`. Without ../shared the tests that need them skip.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const shared = join(import.meta.dirname, '../../shared/weights');
if (process.env['STC_WEIGHTS'] === undefined && existsSync(shared)) process.env['STC_WEIGHTS'] = shared;
