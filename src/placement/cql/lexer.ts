/**
 * Lexer for the cluster query language. Offsets are 0-based UTF-16 code-unit indexes into the source text.
 *
 * Tokens:
 * - punctuation `(` `)` `[` `]` `,`;
 * - symbols, recognised only where a token starts: `==` `!=` `>=` `<=` `=~` `!~` `&&` `||` `>` `<` `!`, and the
 *   glued forms `!exists` / `!in` (when followed by whitespace, punctuation or the end);
 * - quoted strings `'…'` or `"…"`: no backslash escapes (regular expressions keep their backslashes); the quote
 *   character itself is written doubled (`'it''s'`);
 * - bare words: everything else up to whitespace, punctuation or a quote. So `g2.*`, `service:production`,
 *   `attribute:ecs.instance-type`, `2018-06-18T22:28:28+00:00` are single words, and an operator glued to a word
 *   (`a==b`) is part of the word — write operators between spaces, or quote the literal.
 */
import { Ecs } from '../../domain/errors.js';

export type CqlSymbol = '==' | '!=' | '>=' | '<=' | '=~' | '!~' | '&&' | '||' | '>' | '<' | '!' | '!exists' | '!in';

export type Token =
  | { readonly kind: 'word'; readonly text: string; readonly offset: number }
  | { readonly kind: 'string'; readonly text: string; readonly offset: number }
  | { readonly kind: 'symbol'; readonly text: CqlSymbol; readonly offset: number }
  | { readonly kind: '(' | ')' | '[' | ']' | ',' | 'eof'; readonly offset: number };

const PUNCT = new Set(['(', ')', '[', ']', ',']);
const SYMBOLS: readonly CqlSymbol[] = ['!exists', '!in', '==', '!=', '>=', '<=', '=~', '!~', '&&', '||', '>', '<', '!'];
const WORDY: ReadonlySet<CqlSymbol> = new Set(['!exists', '!in']);

const isSpace = (c: string): boolean => /\s/.test(c);
/** Characters that end a bare word. */
export const isDelimiter = (c: string): boolean => isSpace(c) || PUNCT.has(c) || c === "'" || c === '"';

export function syntaxError(offset: number, message: string): Error {
  return Ecs.invalidParameter(`Invalid cluster query expression at offset ${offset}: ${message}`);
}

export function describeToken(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of expression';
    case 'word':
    case 'symbol':
      return `'${t.text}'`;
    case 'string':
      return `quoted string ${JSON.stringify(t.text)}`;
    default:
      return `'${t.kind}'`;
  }
}

export function lex(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = source.length;
  while (i < n) {
    const c = source[i] as string;
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    if (PUNCT.has(c)) {
      tokens.push({ kind: c as '(' | ')' | '[' | ']' | ',', offset: start });
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      let text = '';
      i++;
      for (;;) {
        if (i >= n) throw syntaxError(start, `unterminated quoted string (expected a closing ${c})`);
        const d = source[i] as string;
        if (d === c) {
          if (source[i + 1] === c) {
            text += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        text += d;
        i++;
      }
      tokens.push({ kind: 'string', text, offset: start });
      continue;
    }
    const sym = SYMBOLS.find(
      (s) => source.startsWith(s, i) && (!WORDY.has(s) || i + s.length >= n || isDelimiter(source[i + s.length] as string)),
    );
    if (sym !== undefined) {
      tokens.push({ kind: 'symbol', text: sym, offset: start });
      i += sym.length;
      continue;
    }
    while (i < n && !isDelimiter(source[i] as string)) i++;
    tokens.push({ kind: 'word', text: source.slice(start, i), offset: start });
  }
  tokens.push({ kind: 'eof', offset: n });
  return tokens;
}
