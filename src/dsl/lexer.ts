/**
 * Tokens of the .style language (chevrotain lexer).
 *
 * Keywords are matched as identifiers first and then re-categorised
 * (`longer_alt`), so `network2` is an identifier, not `network` + `2`.
 */
import { createToken, Lexer, type TokenType } from 'chevrotain';

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED });
export const LineComment = createToken({ name: 'LineComment', pattern: /(\/\/|#)[^\n]*/, group: Lexer.SKIPPED });
export const BlockComment = createToken({ name: 'BlockComment', pattern: /\/\*[\s\S]*?\*\//, group: Lexer.SKIPPED, line_breaks: true });

export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*/, label: 'a name' });

function keyword(word: string): TokenType {
  return createToken({ name: `Kw_${word}`, pattern: new RegExp(word), longer_alt: Identifier, label: `'${word}'` });
}

export const Import = keyword('import');
export const Network = keyword('network');
export const Block = keyword('block');
export const Input = keyword('input');
export const Output = keyword('output');
export const Repeat = keyword('repeat');
export const As = keyword('as');
export const Weights = keyword('weights');
export const Objective = keyword('objective');
export const On = keyword('on');
export const Main = keyword('main');
export const True = keyword('true');
export const False = keyword('false');

export const keywords = [Import, Network, Block, Input, Output, Repeat, As, Weights, Objective, On, Main, True, False];

/** Numbers: integers and decimals with optional exponent; a leading minus belongs to the number. */
export const NumberLit = createToken({ name: 'NumberLit', pattern: /-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/, label: 'number' });
export const StringLit = createToken({ name: 'StringLit', pattern: /"[^"\n]*"/, label: 'string' });

export const Arrow = createToken({ name: 'Arrow', pattern: /->/, label: "'->'" });
export const LeftArrow = createToken({ name: 'LeftArrow', pattern: /<-/, label: "'<-'" });
export const LBrace = createToken({ name: 'LBrace', pattern: /\{/, label: "'{'" });
export const RBrace = createToken({ name: 'RBrace', pattern: /\}/, label: "'}'" });
export const LParen = createToken({ name: 'LParen', pattern: /\(/, label: "'('" });
export const RParen = createToken({ name: 'RParen', pattern: /\)/, label: "')'" });
export const LBracket = createToken({ name: 'LBracket', pattern: /\[/, label: "'['" });
export const RBracket = createToken({ name: 'RBracket', pattern: /\]/, label: "']'" });
export const Comma = createToken({ name: 'Comma', pattern: /,/, label: "','" });
export const Colon = createToken({ name: 'Colon', pattern: /:/, label: "':'" });
export const Semicolon = createToken({ name: 'Semicolon', pattern: /;/, label: "';'" });
export const Equals = createToken({ name: 'Equals', pattern: /=/, label: "'='" });
export const Dot = createToken({ name: 'Dot', pattern: /\./, label: "'.'" });

export const allTokens: TokenType[] = [
  WhiteSpace,
  LineComment,
  BlockComment,
  Arrow, // before NumberLit so `->` is not read as a negative number's sign
  LeftArrow,
  NumberLit,
  StringLit,
  ...keywords,
  Identifier,
  LBrace,
  RBrace,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
  Colon,
  Semicolon,
  Equals,
  Dot,
];

export const styleLexer = new Lexer(allTokens, { positionTracking: 'full', ensureOptimizations: false });
