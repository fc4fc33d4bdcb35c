/**
 * The typed syntax tree of a .style file. Every node carries the source span
 * of its first token (for identifiers and literals: the whole token), which
 * is what diagnostics point at.
 */
import type { SourceSpan } from '../util/source-span.ts';

export type { SourceSpan };

export interface Ident {
  readonly name: string;
  readonly span: SourceSpan;
}

/** A dotted reference `res1.conv1` or `vgg19`. */
export interface QualifiedName {
  readonly parts: readonly Ident[];
  readonly span: SourceSpan;
}

/** Attribute and argument values. */
export type Expr =
  | { readonly kind: 'number'; readonly value: number; readonly isInt: boolean; readonly span: SourceSpan }
  | { readonly kind: 'string'; readonly value: string; readonly span: SourceSpan }
  | { readonly kind: 'bool'; readonly value: boolean; readonly span: SourceSpan }
  | { readonly kind: 'name'; readonly name: QualifiedName; readonly span: SourceSpan }
  | { readonly kind: 'list'; readonly items: readonly Expr[]; readonly span: SourceSpan };

export interface Arg {
  /** Present for `key: value` arguments. */
  readonly key?: Ident;
  readonly value: Expr;
  readonly span: SourceSpan;
}

/** `conv(64, 3, stride: 2)`, optionally fed explicitly: `x -> conv(...)`, `(a, b) -> concat()`. */
export interface Call {
  readonly callee: Ident;
  readonly args: readonly Arg[];
  readonly span: SourceSpan;
}

/** One statement of a network or block body. */
export type Stmt =
  | InputStmt
  | LayerStmt
  | OutputStmt
  | RepeatStmt;

export interface InputStmt {
  readonly kind: 'input';
  readonly name: Ident;
  /** `image[N, 3, H, W]` / `tensor[...]`; optional in blocks. */
  readonly type?: TensorType;
  readonly span: SourceSpan;
}

export interface TensorType {
  readonly kind: Ident; // image | tensor
  readonly dims: readonly (Ident | { readonly value: number; readonly span: SourceSpan })[];
  readonly span: SourceSpan;
}

/**
 * `name = source -> call -> call`, where each part is optional except the calls:
 * `conv1 = conv(32, 9)`, `relu()`, `y = (a, b) -> concat()`, `z = x`.
 */
export interface LayerStmt {
  readonly kind: 'layer';
  readonly name?: Ident;
  /** Explicit inputs; absent means "the current value" (the previous statement's result). */
  readonly sources?: readonly QualifiedName[];
  readonly calls: readonly Call[];
  readonly span: SourceSpan;
}

/** `output y` (an existing value) or `output y = <layer statement>`. */
export interface OutputStmt {
  readonly kind: 'output';
  readonly name: Ident;
  readonly value?: LayerStmt;
  readonly span: SourceSpan;
}

/** `repeat 5 as res { ... }`: instances res1..res5, each its own naming scope. */
export interface RepeatStmt {
  readonly kind: 'repeat';
  readonly count: { readonly value: number; readonly span: SourceSpan };
  readonly prefix?: Ident;
  readonly body: readonly Stmt[];
  readonly span: SourceSpan;
}

export interface Param {
  readonly name: Ident;
  readonly default?: Expr;
  readonly span: SourceSpan;
}

export interface BlockDecl {
  readonly kind: 'block';
  readonly name: Ident;
  readonly params: readonly Param[];
  readonly body: readonly Stmt[];
  readonly span: SourceSpan;
}

export interface WeightsEntry {
  readonly param: QualifiedName;
  readonly tensor?: { readonly value: string; readonly span: SourceSpan };
  readonly layout?: Ident;
  readonly span: SourceSpan;
}

/**
 * `weights random(seed: 0)` or
 * `weights file("path", format: npy_dir, mapping: explicit|ordered|identity) { entries }`.
 */
export interface WeightsDecl {
  readonly source: Call;
  readonly entries: readonly WeightsEntry[];
  readonly span: SourceSpan;
}

export interface NetworkDecl {
  readonly kind: 'network';
  readonly name: Ident;
  readonly isMain: boolean;
  readonly params: readonly Param[];
  readonly body: readonly Stmt[];
  /** Weight bindings written in the body (at most one is legal; the checker says so). */
  readonly weights: readonly WeightsDecl[];
  readonly span: SourceSpan;
}

/** `network vgg19_avg = vgg19(pool: avg) [weights ...]`: another network with different parameters. */
export interface NetworkAlias {
  readonly kind: 'networkAlias';
  readonly name: Ident;
  readonly isMain: boolean;
  readonly base: Call;
  readonly weights: readonly WeightsDecl[];
  readonly span: SourceSpan;
}

export interface TapWeightAst {
  readonly tap: QualifiedName;
  readonly weight?: { readonly value: number; readonly span: SourceSpan };
  readonly span: SourceSpan;
}

/** `content(weight: 1, norm: half_sum) { conv4_2 }`, `style(...) { relu1_1: 0.2, ... }`, `tv(weight: 1e-3)`. */
export interface TermAst {
  readonly call: Call;
  readonly taps: readonly TapWeightAst[];
  readonly span: SourceSpan;
}

export interface ObjectiveDecl {
  readonly kind: 'objective';
  readonly name: Ident;
  readonly lossNet: Ident;
  readonly terms: readonly TermAst[];
  readonly span: SourceSpan;
}

export interface ImportDecl {
  readonly kind: 'import';
  /** A stdlib module name (`vgg19`) or a relative path (`"../nets/other.style"`). */
  readonly target: { readonly kind: 'stdlib' | 'path'; readonly value: string; readonly span: SourceSpan };
  readonly span: SourceSpan;
}

export type Decl = ImportDecl | BlockDecl | NetworkDecl | NetworkAlias | ObjectiveDecl;

export interface Program {
  readonly file: string;
  readonly decls: readonly Decl[];
}
