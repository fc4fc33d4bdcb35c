/**
 * `stc serve SITE [--port 8080] [--host 127.0.0.1]`: serve a folder written by `stc export --target web`,
 * cross-origin isolated (COOP/COEP) so onnxruntime-web can use WASM threads. Runs until interrupted.
 */
import type { Command } from 'commander';
import { serveSite } from '../../runtime/web/serve.ts';
import { UserError } from '../../util/errors.ts';
import type { Register } from './index.ts';

interface Opts {
  port: string;
  host: string;
}

async function action(dir: string, o: Opts): Promise<void> {
  const port = Number(o.port);
  if (!/^\s*\d+\s*$/.test(o.port) || port > 65535) throw new UserError(`--port must be an integer in 0..65535, got '${o.port}'`);
  const server = await serveSite(dir, { port, host: o.host });
  process.stdout.write(`serving ${dir} at ${server.url} (cross-origin isolated); press Ctrl-C to stop\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void server.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export const register: Register = (program: Command) => {
  program
    .command('serve')
    .description('serve a web site made by `stc export --target web`, with the COOP/COEP headers WASM threads need')
    .argument('<site>', 'folder written by stc export --target web')
    .option('--port <n>', 'port (0: any free port)', '8080')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .action(action);
};
