// Shell text netlab prints (`netlab plan`, rollback messages) is inert whatever a lab file says: every word is
// quoted unless it is made of safe characters only, and lab text only ever appears inside comments, with line
// breaks turned into new comment lines and control characters shown escaped (src/printable.ts, as in every report).
import { printable } from '../printable.js';

/** Characters a word may consist of and still be printed bare: none of them means anything to a POSIX shell. */
const BARE = /^[A-Za-z0-9_./:=@%+,-]+$/;

/** True when `word` is non-empty and made of characters that mean nothing to a shell (nor to ip/tc batch files). */
export function isBareWord(word: string): boolean {
  return BARE.test(word);
}

/** One word as the shell reads it back unchanged: bare when safe, else in single quotes ('\'' for a quote). */
export function shellQuote(word: string): string {
  if (BARE.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** An argv as one shell command line. */
export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/** Text as comment lines: each of its lines (split at \n) becomes `# LINE`, escaped with `printable`. */
export function commentLines(text: string): string[] {
  return text.split('\n').map((line) => `# ${printable(line)}`.trimEnd());
}

/** Text wrapped into `# ` comment lines of at most `width` characters (words split at whitespace, paragraphs kept). */
export function wrappedComment(text: string, width = 78): string[] {
  const lines: string[] = [];
  text
    .split(/\n[^\S\n]*\n\s*/)
    .map((p) => p.split(/\s+/).filter((w) => w !== '').map((w) => printable(w)))
    .filter((words) => words.length)
    .forEach((words, i) => {
      if (i > 0) lines.push('#');
      let line = '#';
      for (const word of words) {
        if (line.length + word.length + 1 > width && line !== '#') {
          lines.push(line);
          line = '#';
        }
        line += ` ${word}`;
      }
      lines.push(line);
    });
  return lines;
}

/** A heredoc delimiter that no line of `body` equals (so lab text can never end the heredoc early). */
export function heredocDelimiter(body: string, base: string): string {
  const lines = new Set(body.split('\n'));
  let delim = base;
  for (let i = 1; lines.has(delim); i++) delim = `${base}_${i}`;
  return delim;
}
