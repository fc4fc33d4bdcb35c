/**
 * The command table. Each command module exports `register(program, setExit)`.
 * Keep one line per command, alphabetical.
 */
import type { Command } from 'commander';

export type SetExit = (code: number) => void;
export type Register = (program: Command, setExit: SetExit) => void;

const commands: Register[] = [];

export function registerCommands(program: Command, setExit: SetExit): void {
  for (const register of commands) register(program, setExit);
}
