/**
 * Spec mutants for fuzzing the compiler (test/dsl/fuzz.test.ts runs a few hundred per CI run;
 * bench/fuzz-specs.ts runs thousands). Two kinds, both seeded:
 * - random: token deletion, duplication, swaps, replaced numbers and names, inserted characters;
 * - targeted (issue 21): hostile numbers (huge, zero, negative, non-finite, past int32), deep nesting,
 *   long chains, doubling blocks, nested repeats and import cycles.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { styleLexer } from '../../src/dsl/lexer.ts';

export interface Mutant {
  /** What was done, for reports: `random:3`, `number:1e308`, `nest:repeat:500`. */
  readonly kind: string;
  /** Absolute file name the text is compiled as (relative imports resolve from its folder). */
  readonly file: string;
  readonly text: string;
  /** Other files by absolute path (import cycles). */
  readonly overrides?: ReadonlyMap<string, string>;
}

export interface SpecFile {
  readonly file: string;
  readonly text: string;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The good specs the mutants start from: specs/ and stdlib/. */
export function goodSpecs(): SpecFile[] {
  return ['specs', 'stdlib'].flatMap((d) =>
    readdirSync(path.join(ROOT, d))
      .filter((f) => f.endsWith('.style'))
      .sort()
      .map((f) => ({ file: path.join(ROOT, d, f), text: readFileSync(path.join(ROOT, d, f), 'utf8') })),
  );
}

const NUMBERS = ['0', '-1', '1', '2', '3.5', '1e9', '65537', '100000', '-0', '7'];
const CHARS = ['{', '}', '(', ')', ',', ':', '=', '->', '.', '"', '[', ']', '$', ';', '\n', 'x', 'conv', 'repeat', '0'];
/** Numbers ONNX Runtime, typed arrays or loops cannot take: the checker must refuse them with a span. */
export const HOSTILE_NUMBERS = ['0', '-1', '-0', '0.5', '-3', '1e308', '1e400', '-1e400', '1e-320', '2147483648', '4294967297', '9007199254740993', '65537', '100000', '1e9'];

const pick = <T>(xs: readonly T[], r: () => number): T => xs[Math.floor(r() * xs.length)]!;

/** One random token-level mutation (the original front-end fuzzer's). */
export function mutate(text: string, r: () => number): string {
  const tokens = styleLexer.tokenize(text).tokens;
  if (tokens.length < 2) return text;
  const i = Math.floor(r() * tokens.length);
  const t = tokens[i]!;
  const start = t.startOffset;
  const end = t.endOffset! + 1;
  switch (Math.floor(r() * 6)) {
    case 0: // delete
      return text.slice(0, start) + text.slice(end);
    case 1: // duplicate
      return text.slice(0, end) + ' ' + t.image + text.slice(end);
    case 2: {
      // swap with the next token
      const u = tokens[Math.min(i + 1, tokens.length - 1)]!;
      if (u === t) return text;
      return text.slice(0, start) + u.image + text.slice(end, u.startOffset) + t.image + text.slice(u.endOffset! + 1);
    }
    case 3: // replace by a number
      return text.slice(0, start) + pick(NUMBERS, r) + text.slice(end);
    case 4: {
      // replace by another identifier-ish token of the file
      const names = tokens.filter((x) => /^[A-Za-z_]/.test(x.image));
      return text.slice(0, start) + pick(names, r).image + text.slice(end);
    }
    default: {
      const at = Math.floor(r() * text.length);
      return text.slice(0, at) + pick(CHARS, r) + text.slice(at);
    }
  }
}

/** Replace one number literal of the text by a hostile one. */
function hostileNumber(text: string, r: () => number): { text: string; kind: string } {
  const nums = styleLexer.tokenize(text).tokens.filter((t) => t.tokenType.name === 'NumberLit');
  const n = pick(HOSTILE_NUMBERS, r);
  if (nums.length === 0) return { text, kind: 'number:none' };
  const t = pick(nums, r);
  return { text: text.slice(0, t.startOffset) + n + text.slice(t.endOffset! + 1), kind: `number:${n}` };
}

const NET_HEAD = 'main network fuzz {\n  input x: image[N, 3, H, W]\n';

/** A small network around a body, so that what is being tested is the body. */
const net = (body: string, pre = ''): string => `${pre}${NET_HEAD}${body}\n  output y = conv(3, 1)\n}\n`;

function blockChain(n: number, double: boolean): string {
  let pre = 'block b0 { relu() }\n';
  for (let i = 1; i < n; i++) pre += `block b${i} { b${i - 1}()${double ? ` -> b${i - 1}()` : ''} }\n`;
  return net(`  conv(4, 3, padding: zero) -> b${n - 1}()`, pre);
}

/** One targeted mutant; `i` cycles through the families so every run covers each. */
export function targetedMutant(base: readonly SpecFile[], r: () => number, i: number): Mutant {
  const b = pick(base, r);
  const depth = pick([10, 63, 64, 100, 500, 1000, 10_000], r);
  const file = b.file;
  switch (i % 9) {
    case 0:
    case 1: {
      const h = hostileNumber(b.text, r);
      return { kind: h.kind, file, text: h.text };
    }
    case 2: {
      if (r() < 0.3) {
        // blocks whose bodies nest repeats: each bounded alone, their product overflowed the stack
        const [blocks, repeats] = [pick([8, 64], r), pick([10, 60], r)];
        let pre = 'block b0 { relu() }\n';
        for (let k = 1; k < blocks; k++) pre += `block b${k} { ${'repeat 1 { '.repeat(repeats)}b${k - 1}()${' }'.repeat(repeats)} }\n`;
        return { kind: `nest:blocks-repeats:${blocks}x${repeats}`, file, text: net(`  conv(4, 3, padding: zero) -> b${blocks - 1}()`, pre) };
      }
      return { kind: `nest:repeat:${depth}`, file, text: net(`  conv(4, 3, padding: zero)\n  ${'repeat 1 { '.repeat(depth)}relu()${' }'.repeat(depth)}`) };
    }
    case 3:
      return { kind: `nest:list:${depth}`, file, text: net(`  conv(4, ${'['.repeat(depth)}3${']'.repeat(depth)})`) };
    case 4:
      return { kind: `nest:parens:${depth}`, file, text: net(`  y0 = ${'('.repeat(depth)}x${')'.repeat(depth)} -> relu()`) };
    case 5: {
      const n = pick([2, 50, 64, 65, 1000, 5000], r);
      return { kind: `chain:arrows:${n}`, file, text: net(`  conv(4, 3, padding: zero)${' -> relu()'.repeat(n)}`) };
    }
    case 6: {
      const n = pick([8, 64, 65, 1000], r);
      const double = r() < 0.5;
      return { kind: `chain:blocks:${double ? 'doubling:' : ''}${double ? pick([10, 16, 40], r) : n}`, file, text: blockChain(double ? pick([10, 16, 40], r) : n, double) };
    }
    case 7: {
      const [a, c] = [pick([1, 2, 10, 1000, 1001, 0, -1, 1e9], r), pick([1, 10, 1000], r)];
      return { kind: `repeat:${a}x${c}`, file, text: net(`  conv(4, 3, padding: zero)\n  repeat ${a} { repeat ${c} { relu() } }`) };
    }
    default: {
      // import cycles: the spec imports a file that imports it back (or itself)
      const dir = path.dirname(file);
      const other = path.join(dir, 'fuzz-cycle-b.style');
      const self = r() < 0.5;
      const text = `import "${self ? path.basename(file) : 'fuzz-cycle-b.style'}"\n${b.text}`;
      const overrides = new Map([[other, `import "${path.basename(file)}"\nblock cyc { relu() }\n`]]);
      return { kind: self ? 'import:self' : 'import:cycle', file, text, ...(!self && { overrides }) };
    }
  }
}

/** One random mutant: 1 to 3 random mutations of a good spec. */
export function randomMutant(base: readonly SpecFile[], r: () => number, n: number): Mutant {
  const b = base[n % base.length]!;
  let text = b.text;
  const k = 1 + Math.floor(r() * 3);
  for (let j = 0; j < k; j++) text = mutate(text, r);
  return { kind: `random:${k}`, file: b.file, text };
}

/** Mutant number `i` of a seeded run: even numbers random, odd targeted; each from its own stream, so any one can be replayed. */
export function mutantAt(base: readonly SpecFile[], seed: number, i: number, rng: (seed: number) => () => number): Mutant {
  const r = rng((seed * 1_000_003 + i) >>> 0);
  return i % 2 === 0 ? randomMutant(base, r, i >> 1) : targetedMutant(base, r, i >> 1);
}
