/**
 * `stc check <spec>`: parse and check a spec (and its imports); print every
 * diagnostic as file:line:col with the source line and a caret. Exit 1 on errors.
 */
import { compileFile } from '../../compiler/frontend.ts';
import { renderDiagnostics } from '../load-spec.ts';
import type { Register } from './index.ts';

export const register: Register = (program, setExit) => {
  program
    .command('check')
    .description('check a .style spec and report every error')
    .argument('<spec>', 'spec file')
    .action((spec: string) => {
      const r = compileFile(spec);
      if (r.diagnostics.length) process.stderr.write(`${renderDiagnostics(r.diagnostics, r.sources)}\n`);
      const errors = r.diagnostics.filter((d) => d.severity === 'error').length;
      if (errors || !r.module) {
        process.stderr.write(`${errors} error${errors === 1 ? '' : 's'}\n`);
        setExit(1);
        return;
      }
      const m = r.module;
      const nets = [...m.networks.keys()].map((n) => (n === m.main ? `${n} (main)` : n));
      process.stdout.write(`${spec}: ok; networks: ${nets.join(', ') || 'none'}; objectives: ${[...m.objectives.keys()].join(', ') || 'none'}\n`);
    });
};
