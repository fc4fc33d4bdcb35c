/** The `stc` command line. Each command lives in its own module under commands/. */
import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands/index.ts';
import { UserError } from '../util/errors.ts';

export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command();
  program
    .name('stc')
    .description('stc, the style-transfer compiler: .style specs to ONNX and TensorFlow.js')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError();
  let exitCode = 0;
  await registerCommands(
    program,
    (code) => {
      exitCode = Math.max(exitCode, code);
    },
    argv,
  );
  try {
    await program.parseAsync([...argv]);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    // No GPU provider starting is the machine's state, not a bug in stc: no stack trace. (Matched by name, so
    // that main does not import onnxruntime: commands load their dependencies themselves, commands/index.ts.)
    if (e instanceof UserError || (e instanceof Error && e.name === 'GpuUnavailableError')) {
      process.stderr.write(`stc: error: ${e.message}\n`);
      return 1;
    }
    // An internal invariant failed: still one message and exit 1; the stack only on request.
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`stc: internal error: ${message.split('\n')[0]} (a bug in stc; STC_DEBUG=1 prints the stack)\n`);
    if (process.env['STC_DEBUG'] === '1' && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
  return exitCode;
}
