/**
 * The command table. Each command module exports `register(program, setExit)`.
 * Keep one line per command, alphabetical.
 */
import type { Command } from 'commander';
import { register as apply } from './apply.ts';
import { register as check } from './check.ts';
import { register as compile } from './compile.ts';
import { register as doctor } from './doctor.ts';
import { register as exportCmd } from './export.ts';
import { register as graph } from './graph.ts';
import { register as info } from './info.ts';
import { register as queue } from './queue.ts';
import { register as quilt } from './quilt.ts';
import { register as run } from './run.ts';
import { register as stylize } from './stylize.ts';
import { register as train } from './train.ts';
import { register as verify } from './verify.ts';

export type SetExit = (code: number) => void;
export type Register = (program: Command, setExit: SetExit) => void;

const commands: Register[] = [apply, check, compile, doctor, exportCmd, graph, info, queue, quilt, run, stylize, train, verify];

export function registerCommands(program: Command, setExit: SetExit): void {
  for (const register of commands) register(program, setExit);
}
