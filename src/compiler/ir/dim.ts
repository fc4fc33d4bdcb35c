/**
 * Symbolic tensor dimensions.
 *
 * A dimension is either a concrete integer or a small expression over named
 * size variables (`N`, `H`, `W`, ...). Constructors fold constants and apply a
 * few algebraic simplifications so that common shapes print readably
 * (`H`, `ceil(H/2)`, `2*ceil(H/2)`), but equality of two symbolic dimensions is
 * decided semantically, by evaluating both at sample sizes (see `dimsAgree`).
 */
export type Dim = number | DimExpr;

export type DimExpr =
  | { readonly kind: 'var'; readonly name: string }
  | { readonly kind: 'add'; readonly a: DimExpr; readonly c: number }
  | { readonly kind: 'sum'; readonly a: DimExpr; readonly b: DimExpr }
  | { readonly kind: 'prod'; readonly a: DimExpr; readonly b: DimExpr }
  | { readonly kind: 'mul'; readonly a: DimExpr; readonly k: number }
  | { readonly kind: 'floordiv'; readonly a: DimExpr; readonly k: number }
  | { readonly kind: 'ceildiv'; readonly a: DimExpr; readonly k: number };

export type DimEnv = Readonly<Record<string, number>>;

export function dimVar(name: string): DimExpr {
  return { kind: 'var', name };
}

export function isConcrete(d: Dim): d is number {
  return typeof d === 'number';
}

export function dimAdd(a: Dim, c: number): Dim {
  if (typeof a === 'number') return a + c;
  if (c === 0) return a;
  if (a.kind === 'add') return dimAdd(a.a, a.c + c);
  return { kind: 'add', a, c };
}

export function dimSum(a: Dim, b: Dim): Dim {
  if (typeof a === 'number') return dimAdd(b, a);
  if (typeof b === 'number') return dimAdd(a, b);
  return { kind: 'sum', a, b };
}

/** Product of two dimensions (flattening H*W). */
export function dimProd(a: Dim, b: Dim): Dim {
  if (typeof a === 'number') return dimMul(b, a);
  if (typeof b === 'number') return dimMul(a, b);
  return { kind: 'prod', a, b };
}

export function dimMul(a: Dim, k: number): Dim {
  if (typeof a === 'number') return a * k;
  if (k === 1) return a;
  if (k === 0) return 0;
  if (a.kind === 'mul') return dimMul(a.a, a.k * k);
  return { kind: 'mul', a, k };
}

export function dimFloorDiv(a: Dim, k: number): Dim {
  if (!Number.isInteger(k) || k <= 0) throw new Error(`dimFloorDiv: bad divisor ${k}`);
  if (typeof a === 'number') return Math.floor(a / k);
  if (k === 1) return a;
  if (a.kind === 'mul' && a.k % k === 0) return dimMul(a.a, a.k / k);
  return { kind: 'floordiv', a, k };
}

export function dimCeilDiv(a: Dim, k: number): Dim {
  if (!Number.isInteger(k) || k <= 0) throw new Error(`dimCeilDiv: bad divisor ${k}`);
  if (typeof a === 'number') return Math.ceil(a / k);
  if (k === 1) return a;
  if (a.kind === 'mul' && a.k % k === 0) return dimMul(a.a, a.k / k);
  return { kind: 'ceildiv', a, k };
}

/** floor((a + c) / k) written so that floor((H-1)/2)+1 prints as ceil(H/2). */
export function dimFloorDivOffset(a: Dim, c: number, k: number): Dim {
  if (typeof a === 'number') return Math.floor((a + c) / k);
  // floor((x + c)/k) = floor((x + c - (k-1))/k + (k-1)/k) = ceil((x + c - k + 1)/k)
  if (c === k - 1) return dimCeilDiv(a, k);
  if (c % k === 0) return dimAdd(dimFloorDiv(a, k), c / k);
  if ((c - (k - 1)) % k === 0) return dimAdd(dimCeilDiv(a, k), (c - (k - 1)) / k);
  return dimFloorDiv(dimAdd(a, c), k);
}

export function evalDim(d: Dim, env: DimEnv): number {
  if (typeof d === 'number') return d;
  switch (d.kind) {
    case 'var': {
      const v = env[d.name];
      if (v === undefined) throw new Error(`evalDim: size variable ${d.name} is unbound`);
      return v;
    }
    case 'add':
      return evalDim(d.a, env) + d.c;
    case 'sum':
      return evalDim(d.a, env) + evalDim(d.b, env);
    case 'prod':
      return evalDim(d.a, env) * evalDim(d.b, env);
    case 'mul':
      return evalDim(d.a, env) * d.k;
    case 'floordiv':
      return Math.floor(evalDim(d.a, env) / d.k);
    case 'ceildiv':
      return Math.ceil(evalDim(d.a, env) / d.k);
  }
}

/** Substitute bound variables, folding to a number when everything is bound. */
export function substDim(d: Dim, env: DimEnv): Dim {
  if (typeof d === 'number') return d;
  switch (d.kind) {
    case 'var':
      return env[d.name] ?? d;
    case 'add':
      return dimAdd(substDim(d.a, env), d.c);
    case 'sum':
      return dimSum(substDim(d.a, env), substDim(d.b, env));
    case 'prod':
      return dimProd(substDim(d.a, env), substDim(d.b, env));
    case 'mul':
      return dimMul(substDim(d.a, env), d.k);
    case 'floordiv':
      return dimFloorDiv(substDim(d.a, env), d.k);
    case 'ceildiv':
      return dimCeilDiv(substDim(d.a, env), d.k);
  }
}

export function dimVars(d: Dim, into: Set<string> = new Set()): Set<string> {
  if (typeof d === 'number') return into;
  if (d.kind === 'var') into.add(d.name);
  else if (d.kind === 'sum' || d.kind === 'prod') {
    dimVars(d.a, into);
    dimVars(d.b, into);
  } else dimVars(d.a, into);
  return into;
}

export function dimToString(d: Dim): string {
  if (typeof d === 'number') return String(d);
  switch (d.kind) {
    case 'var':
      return d.name;
    case 'add':
      return `${dimToString(d.a)}${d.c < 0 ? '-' : '+'}${Math.abs(d.c)}`;
    case 'sum':
      return `${dimToString(d.a)}+${dimToString(d.b)}`;
    case 'prod':
      return `${wrap(d.a)}*${wrap(d.b)}`;
    case 'mul':
      return `${d.k}*${wrap(d.a)}`;
    case 'floordiv':
      return `floor(${dimToString(d.a)}/${d.k})`;
    case 'ceildiv':
      return `ceil(${dimToString(d.a)}/${d.k})`;
  }
}

function wrap(d: DimExpr): string {
  return d.kind === 'add' || d.kind === 'sum' ? `(${dimToString(d)})` : dimToString(d);
}

export function shapeToString(shape: readonly Dim[]): string {
  return `[${shape.map(dimToString).join(', ')}]`;
}

/**
 * Sizes at which two symbolic dimensions are compared. Style-transfer networks
 * are normally run at sizes divisible by the total stride, so the samples are
 * multiples of 32; sizes that break divisibility are caught once a concrete
 * size is given (`--size`).
 */
const SAMPLE_SIZES = [64, 96, 128, 224, 256, 512];

/** Whether two dimensions agree for every sampled binding of their variables. */
export function dimsAgree(a: Dim, b: Dim): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  const vars = [...dimVars(a), ...dimVars(b)];
  for (let i = 0; i < SAMPLE_SIZES.length; i++) {
    const env: Record<string, number> = {};
    vars.forEach((v, j) => {
      env[v] = SAMPLE_SIZES[(i + j) % SAMPLE_SIZES.length]!;
    });
    if (evalDim(a, env) !== evalDim(b, env)) return false;
  }
  return true;
}

/** Whether a dimension can be positive for the sampled sizes (used to reject empty tensors). */
export function dimPositive(d: Dim): boolean {
  if (typeof d === 'number') return d > 0;
  const env: Record<string, number> = {};
  for (const v of dimVars(d)) env[v] = 256;
  return evalDim(d, env) > 0;
}
