/**
 * Child process for the kill-during-write test: saves checkpoint step 2 into
 * argv[2] and SIGKILLs itself after the first chunk reached the disk.
 */
import { saveCheckpoint } from '../../../src/runtime/checkpoint/checkpoint.ts';

const dir = process.argv[2]!;
const big = new Float32Array(1 << 20).fill(2);
await saveCheckpoint(
  dir,
  { step: 2, params: new Map([['w', { shape: [1 << 20], data: big }]]), adamM: new Map(), adamV: new Map(), meta: { note: 'never lands' } },
  { hooks: { afterFirstChunk: () => void process.kill(process.pid, 'SIGKILL') } },
);
process.stdout.write('unreachable: the write completed\n');
