/**
 * The .style parser: a chevrotain EmbeddedActionsParser that builds the AST
 * (ast.ts) directly. Error recovery is on, so one run reports several syntax
 * errors; an AST produced with syntax errors must not be checked further.
 * The grammar in EBNF is in docs/language.md.
 */
import { EmbeddedActionsParser, type IToken, EOF } from 'chevrotain';
import * as T from './lexer.ts';
import type * as A from './ast.ts';
import { error, type Diagnostic } from './diagnostics.ts';
import type { SourceSpan } from '../util/source-span.ts';
import { MAX_NESTING, MAX_SYNTAX_ERRORS } from './limits.ts';

const LAYOUTS = new Set(['OIHW', 'IOHW', 'HWIO', 'HWOI', 'asis']);

class StyleParser extends EmbeddedActionsParser {
  file = '<input>';

  constructor() {
    super(T.allTokens, { recoveryEnabled: true, maxLookahead: 3 });
    this.performSelfAnalysis();
  }

  span(start: IToken, end?: IToken): SourceSpan {
    const line = start.startLine ?? 0;
    let length = start.image.length;
    if (end && end.startLine === start.startLine && end.endColumn !== undefined && start.startColumn !== undefined)
      length = Math.max(length, end.endColumn - start.startColumn + 1);
    return { file: this.file, line: Number.isFinite(line) ? line : 0, col: start.startColumn ?? 0, length: Math.max(1, length) };
  }

  ident(tok: IToken): A.Ident {
    return { name: tok.image, span: this.span(tok) };
  }

  public program = this.RULE('program', (): A.Decl[] => {
    const decls: A.Decl[] = [];
    this.MANY(() => {
      const d = this.OR([
        { ALT: () => this.SUBRULE(this.importDecl) },
        { ALT: () => this.SUBRULE(this.blockDecl) },
        { ALT: () => this.SUBRULE(this.networkDecl) },
        { ALT: () => this.SUBRULE(this.objectiveDecl) },
      ]);
      this.OPTION(() => this.CONSUME(T.Semicolon));
      if (d) decls.push(d);
    });
    return decls;
  });

  private importDecl = this.RULE('importDecl', (): A.ImportDecl => {
    const kw = this.CONSUME(T.Import);
    const target = this.OR([
      { ALT: () => ({ kind: 'stdlib' as const, tok: this.CONSUME(T.Identifier) }) },
      { ALT: () => ({ kind: 'path' as const, tok: this.CONSUME(T.StringLit) }) },
    ]);
    return this.ACTION(() => {
      const value = target.kind === 'path' ? target.tok.image.slice(1, -1) : target.tok.image;
      return { kind: 'import', target: { kind: target.kind, value, span: this.span(target.tok) }, span: this.span(kw, target.tok) };
    });
  });

  private params = this.RULE('params', (): A.Param[] => {
    const out: A.Param[] = [];
    this.CONSUME(T.LParen);
    this.MANY_SEP({
      SEP: T.Comma,
      DEF: () => {
        const name = this.CONSUME(T.Identifier);
        let def: A.Expr | undefined;
        this.OPTION(() => {
          this.CONSUME(T.Equals);
          def = this.SUBRULE(this.expr);
        });
        this.ACTION(() => out.push({ name: this.ident(name), ...(def && { default: def }), span: this.span(name) }));
      },
    });
    this.CONSUME(T.RParen);
    return out;
  });

  private blockDecl = this.RULE('blockDecl', (): A.BlockDecl => {
    const kw = this.CONSUME(T.Block);
    const name = this.CONSUME(T.Identifier);
    const params = this.OPTION(() => this.SUBRULE(this.params)) ?? [];
    const b = this.SUBRULE(this.body);
    return this.ACTION(() => ({ kind: 'block', name: this.ident(name), params, body: b?.stmts ?? [], span: this.span(kw, name) }));
  });

  private body = this.RULE('body', (): { stmts: A.Stmt[]; weights: A.WeightsDecl[] } => {
    const stmts: A.Stmt[] = [];
    const weights: A.WeightsDecl[] = [];
    this.CONSUME(T.LBrace);
    this.MANY(() => {
      this.OR([
        {
          ALT: () => {
            const s = this.SUBRULE(this.stmt);
            if (s) stmts.push(s);
          },
        },
        {
          ALT: () => {
            const w = this.SUBRULE(this.weightsDecl);
            if (w) weights.push(w);
          },
        },
      ]);
      this.OPTION(() => this.CONSUME(T.Semicolon));
    });
    this.CONSUME(T.RBrace);
    return { stmts, weights };
  });

  private networkDecl = this.RULE('networkDecl', (): A.NetworkDecl | A.NetworkAlias => {
    const main = this.OPTION(() => this.CONSUME(T.Main));
    const kw = this.CONSUME(T.Network);
    const name = this.CONSUME(T.Identifier);
    const start = main ?? kw;
    return this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Equals);
          const base = this.SUBRULE(this.call);
          const weights: A.WeightsDecl[] = [];
          this.OPTION2(() => {
            const w = this.SUBRULE(this.weightsDecl);
            if (w) weights.push(w);
          });
          return this.ACTION(() => ({ kind: 'networkAlias' as const, name: this.ident(name), isMain: !!main, base, weights, span: this.span(start, name) }));
        },
      },
      {
        ALT: () => {
          const params = this.OPTION3(() => this.SUBRULE(this.params)) ?? [];
          const b = this.SUBRULE(this.body);
          return this.ACTION(() => ({
            kind: 'network' as const,
            name: this.ident(name),
            isMain: !!main,
            params,
            body: b?.stmts ?? [],
            weights: b?.weights ?? [],
            span: this.span(start, name),
          }));
        },
      },
    ]);
  });

  private stmt = this.RULE('stmt', (): A.Stmt => {
    return this.OR([
      { ALT: () => this.SUBRULE(this.inputStmt) },
      { ALT: () => this.SUBRULE(this.outputStmt) },
      { ALT: () => this.SUBRULE(this.repeatStmt) },
      { ALT: () => this.SUBRULE(this.layerStmt) },
    ]);
  });

  private inputStmt = this.RULE('inputStmt', (): A.InputStmt => {
    const kw = this.CONSUME(T.Input);
    const name = this.CONSUME(T.Identifier);
    const type = this.OPTION(() => {
      this.CONSUME(T.Colon);
      return this.SUBRULE(this.tensorType);
    });
    return this.ACTION(() => ({ kind: 'input', name: this.ident(name), ...(type && { type }), span: this.span(kw, name) }));
  });

  private tensorType = this.RULE('tensorType', (): A.TensorType => {
    const kind = this.CONSUME(T.Identifier);
    this.CONSUME(T.LBracket);
    const dims: A.TensorType['dims'][number][] = [];
    this.AT_LEAST_ONE_SEP({
      SEP: T.Comma,
      DEF: () => {
        this.OR([
          {
            ALT: () => {
              const t = this.CONSUME2(T.Identifier);
              this.ACTION(() => dims.push(this.ident(t)));
            },
          },
          {
            ALT: () => {
              const n = this.CONSUME(T.NumberLit);
              this.ACTION(() => dims.push({ value: Number(n.image), span: this.span(n) }));
            },
          },
        ]);
      },
    });
    const end = this.CONSUME(T.RBracket);
    return this.ACTION(() => ({ kind: this.ident(kind), dims, span: this.span(kind, end) }));
  });

  private outputStmt = this.RULE('outputStmt', (): A.OutputStmt => {
    const kw = this.CONSUME(T.Output);
    const name = this.CONSUME(T.Identifier);
    const value = this.OPTION(() => {
      this.CONSUME(T.Equals);
      return this.SUBRULE(this.layerRhs);
    });
    return this.ACTION(() => ({ kind: 'output', name: this.ident(name), ...(value && { value }), span: this.span(kw, name) }));
  });

  private repeatStmt = this.RULE('repeatStmt', (): A.RepeatStmt => {
    const kw = this.CONSUME(T.Repeat);
    const n = this.CONSUME(T.NumberLit);
    const prefix = this.OPTION(() => {
      this.CONSUME(T.As);
      const t = this.CONSUME(T.Identifier);
      return this.ACTION(() => this.ident(t));
    });
    const b = this.SUBRULE(this.body);
    return this.ACTION(() => ({
      kind: 'repeat',
      count: { value: Number(n.image), span: this.span(n) },
      ...(prefix && { prefix }),
      body: b?.stmts ?? [],
      span: this.span(kw, n),
    }));
  });

  /** `name = rhs` or `rhs`. */
  private layerStmt = this.RULE('layerStmt', (): A.LayerStmt => {
    let name: IToken | undefined;
    this.OPTION({
      GATE: () => this.LA(2).tokenType === T.Equals,
      DEF: () => {
        name = this.CONSUME(T.Identifier);
        this.CONSUME(T.Equals);
      },
    });
    const rhs = this.SUBRULE(this.layerRhs);
    return this.ACTION(() => (name && rhs ? { ...rhs, name: this.ident(name), span: this.span(name) } : rhs));
  });

  /** `call (-> call)*`, `source -> call (-> call)*`, `(a, b) -> call ...`, or a bare reference `x`. */
  private layerRhs = this.RULE('layerRhs', (): A.LayerStmt => {
    const calls: A.Call[] = [];
    let sources: A.QualifiedName[] | undefined;
    let first: IToken = this.LA(1);
    this.OR([
      {
        GATE: () => this.LA(2).tokenType === T.LParen,
        ALT: () => {
          const c = this.SUBRULE(this.call);
          if (c) calls.push(c);
        },
      },
      {
        ALT: () => {
          const q = this.SUBRULE(this.qualifiedName);
          sources = q ? [q] : [];
        },
      },
      {
        ALT: () => {
          first = this.CONSUME(T.LParen);
          const list: A.QualifiedName[] = [];
          this.AT_LEAST_ONE_SEP({
            SEP: T.Comma,
            DEF: () => {
              const q = this.SUBRULE2(this.qualifiedName);
              if (q) list.push(q);
            },
          });
          this.CONSUME(T.RParen);
          sources = list;
        },
      },
    ]);
    this.MANY(() => {
      this.CONSUME(T.Arrow);
      const c = this.SUBRULE2(this.call);
      if (c) calls.push(c);
    });
    return this.ACTION(() => ({ kind: 'layer', ...(sources && { sources }), calls, span: this.span(first) }));
  });

  private call = this.RULE('call', (): A.Call => {
    const callee = this.CONSUME(T.Identifier);
    this.CONSUME(T.LParen);
    const args: A.Arg[] = [];
    this.MANY_SEP({
      SEP: T.Comma,
      DEF: () => {
        const a = this.SUBRULE(this.arg);
        if (a) args.push(a);
      },
    });
    const end = this.CONSUME(T.RParen);
    return this.ACTION(() => ({ callee: this.ident(callee), args, span: this.span(callee, end) }));
  });

  private arg = this.RULE('arg', (): A.Arg => {
    let key: IToken | undefined;
    this.OPTION({
      GATE: () => this.LA(2).tokenType === T.Colon,
      DEF: () => {
        key = this.CONSUME(T.Identifier);
        this.CONSUME(T.Colon);
      },
    });
    const value = this.SUBRULE(this.expr);
    return this.ACTION(() => {
      const span = key ? this.span(key) : value?.span;
      return { ...(key && { key: this.ident(key) }), value, span } as A.Arg;
    });
  });

  private expr = this.RULE('expr', (): A.Expr => {
    return this.OR([
      {
        ALT: () => {
          const t = this.CONSUME(T.NumberLit);
          return this.ACTION(() => ({ kind: 'number' as const, value: Number(t.image), isInt: /^-?\d+$/.test(t.image), span: this.span(t) }));
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.StringLit);
          return this.ACTION(() => ({ kind: 'string' as const, value: t.image.slice(1, -1), span: this.span(t) }));
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.True);
          return this.ACTION(() => ({ kind: 'bool' as const, value: true, span: this.span(t) }));
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.False);
          return this.ACTION(() => ({ kind: 'bool' as const, value: false, span: this.span(t) }));
        },
      },
      {
        ALT: () => {
          const q = this.SUBRULE(this.qualifiedName);
          return this.ACTION(() => ({ kind: 'name' as const, name: q, span: q?.span }));
        },
      },
      {
        ALT: () => {
          const open = this.CONSUME(T.LBracket);
          const items: A.Expr[] = [];
          this.MANY_SEP({
            SEP: T.Comma,
            DEF: () => {
              const e = this.SUBRULE(this.expr);
              if (e) items.push(e);
            },
          });
          const close = this.CONSUME(T.RBracket);
          return this.ACTION(() => ({ kind: 'list' as const, items, span: this.span(open, close) }));
        },
      },
    ]) as A.Expr;
  });

  private qualifiedName = this.RULE('qualifiedName', (): A.QualifiedName => {
    const parts: A.Ident[] = [];
    const first = this.CONSUME(T.Identifier);
    this.ACTION(() => parts.push(this.ident(first)));
    let last = first;
    this.MANY(() => {
      this.CONSUME(T.Dot);
      last = this.CONSUME2(T.Identifier);
      this.ACTION(() => parts.push(this.ident(last)));
    });
    return this.ACTION(() => ({ parts, span: this.span(first, last) }));
  });

  /** `weights call { entry* }` where an entry is `param.path [<- "tensor"] [LAYOUT] [,|;]`. */
  private weightsDecl = this.RULE('weightsDecl', (): A.WeightsDecl => {
    const kw = this.CONSUME(T.Weights);
    const source = this.SUBRULE(this.call);
    const entries: A.WeightsEntry[] = [];
    this.OPTION(() => {
      this.CONSUME(T.LBrace);
      this.MANY(() => {
        const e = this.SUBRULE(this.weightsEntry);
        if (e) entries.push(e);
        this.OPTION2(() => this.OR([{ ALT: () => this.CONSUME(T.Comma) }, { ALT: () => this.CONSUME(T.Semicolon) }]));
      });
      this.CONSUME(T.RBrace);
    });
    return this.ACTION(() => ({ source, entries, span: this.span(kw) }));
  });

  private weightsEntry = this.RULE('weightsEntry', (): A.WeightsEntry => {
    const param = this.SUBRULE(this.qualifiedName);
    const tensor = this.OPTION(() => {
      this.CONSUME(T.LeftArrow);
      const t = this.CONSUME(T.StringLit);
      return this.ACTION(() => ({ value: t.image.slice(1, -1), span: this.span(t) }));
    });
    const layout = this.OPTION2({
      GATE: () => LAYOUTS.has(this.LA(1).image) && this.LA(2).tokenType !== T.Dot && this.LA(2).tokenType !== T.LeftArrow,
      DEF: () => {
        const t = this.CONSUME(T.Identifier);
        return this.ACTION(() => this.ident(t));
      },
    });
    return this.ACTION(() => ({ param, ...(tensor && { tensor }), ...(layout && { layout }), span: param?.span }) as A.WeightsEntry);
  });

  private objectiveDecl = this.RULE('objectiveDecl', (): A.ObjectiveDecl => {
    const kw = this.CONSUME(T.Objective);
    const name = this.CONSUME(T.Identifier);
    this.CONSUME(T.On);
    const net = this.CONSUME2(T.Identifier);
    this.CONSUME(T.LBrace);
    const terms: A.TermAst[] = [];
    this.MANY(() => {
      const t = this.SUBRULE(this.term);
      if (t) terms.push(t);
      this.OPTION(() => this.CONSUME(T.Semicolon));
    });
    this.CONSUME(T.RBrace);
    return this.ACTION(() => ({ kind: 'objective', name: this.ident(name), lossNet: this.ident(net), terms, span: this.span(kw, name) }));
  });

  private term = this.RULE('term', (): A.TermAst => {
    const call = this.SUBRULE(this.call);
    const taps: A.TapWeightAst[] = [];
    this.OPTION(() => {
      this.CONSUME(T.LBrace);
      this.MANY_SEP({
        SEP: T.Comma,
        DEF: () => {
          const tap = this.SUBRULE(this.qualifiedName);
          const weight = this.OPTION2(() => {
            this.CONSUME(T.Colon);
            const n = this.CONSUME(T.NumberLit);
            return this.ACTION(() => ({ value: Number(n.image), span: this.span(n) }));
          });
          this.ACTION(() => {
            if (tap) taps.push({ tap, ...(weight && { weight }), span: tap.span });
          });
        },
      });
      this.CONSUME(T.RBrace);
    });
    return this.ACTION(() => ({ call, taps, span: call?.span }) as A.TermAst);
  });
}

let shared: StyleParser | undefined;

export interface ParseResult {
  readonly program: A.Program;
  readonly diagnostics: Diagnostic[];
}

/** Lex and parse one file. Never throws on bad input: problems come back as `syntax` diagnostics. */
export function parse(text: string, file: string): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const lex = T.styleLexer.tokenize(text);
  for (const e of lex.errors) {
    const ch = text.slice(e.offset, e.offset + e.length);
    diagnostics.push(
      error('syntax', `unexpected character ${JSON.stringify(ch)}`, { file, line: e.line ?? 0, col: e.column ?? 0, length: Math.max(1, e.length) }),
    );
  }
  const tooDeep = firstTooDeep(lex.tokens);
  if (tooDeep) {
    // Refused before parsing: the recursive-descent parser would recurse once per level.
    diagnostics.push(error('syntax', `brackets nested more than ${MAX_NESTING} levels deep`, tokenSpan(file, tooDeep)));
    return { program: { file, decls: [] }, diagnostics };
  }
  shared ??= new StyleParser();
  const p = shared;
  p.file = file;
  p.input = lex.tokens;
  const decls = p.program() ?? [];
  const lines = text.split(/\r?\n/);
  const eofSpan: SourceSpan = { file, line: lines.length, col: (lines[lines.length - 1]?.length ?? 0) + 1, length: 1 };
  for (const e of p.errors.slice(0, MAX_SYNTAX_ERRORS)) {
    const tok = e.token;
    const atEof = tok.tokenType === EOF;
    diagnostics.push(error('syntax', syntaxMessage(e.name, e.message, tok, atEof), atEof ? eofSpan : tokenSpan(file, tok)));
  }
  if (p.errors.length > MAX_SYNTAX_ERRORS)
    diagnostics.push(error('syntax', `${p.errors.length - MAX_SYNTAX_ERRORS} more syntax errors not shown`, eofSpan));
  return { program: { file, decls: decls.filter((d) => d !== undefined) }, diagnostics };
}

function tokenSpan(file: string, tok: IToken): SourceSpan {
  return { file, line: tok.startLine ?? 0, col: tok.startColumn ?? 0, length: Math.max(1, tok.image.length) };
}

/** The first opening bracket that makes the nesting deeper than MAX_NESTING, if any. */
function firstTooDeep(tokens: readonly IToken[]): IToken | undefined {
  let depth = 0;
  for (const t of tokens) {
    if (t.tokenType === T.LBrace || t.tokenType === T.LParen || t.tokenType === T.LBracket) {
      if (++depth > MAX_NESTING) return t;
    } else if (t.tokenType === T.RBrace || t.tokenType === T.RParen || t.tokenType === T.RBracket) depth = Math.max(0, depth - 1);
  }
  return undefined;
}

function syntaxMessage(kind: string, raw: string, tok: IToken, atEof: boolean): string {
  const found = atEof ? 'end of file' : `'${tok.image}'`;
  if (kind === 'NotAllInputParsedException') return `unexpected ${found}: expected a declaration (import, block, network, objective)`;
  // chevrotain lists expected token sequences verbosely; reduce them to the first token of each alternative.
  const single = /Expecting (?:token of type )?--> (.+?) <--/.exec(raw);
  let expected: string[] = single ? [single[1]!] : [...raw.matchAll(/\[([^\]\n]+?)(?:, [^\]\n]*)?\]/g)].map((m) => m[1]!);
  expected = [...new Set(expected.map((e) => (e === 'EOF' ? 'end of file' : e)))];
  if (expected.length === 0) return `unexpected ${found}`;
  const list = expected.length > 6 ? [...expected.slice(0, 6), '...'] : expected;
  return `unexpected ${found}, expected ${list.join(' or ')}`;
}
