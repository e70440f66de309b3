// The largest `{n}`, `{n,}` or `{n,m}` count of an RE2 expression, read from its text: checked
// before compiling, since compiling a large count is itself the slow part. Escapes, `\p{…}`,
// `\x{…}`, `\Q…\E` and character classes hold braces that are not counts, and are skipped.
const COUNT = /^\{(\d+)(?:,(\d*))?\}/;

const skipClass = (expression: string, start: number) => {
  let i = start + 1;
  if (expression[i] === '^') i += 1;
  if (expression[i] === ']') i += 1; // a leading ] is a literal
  for (; i < expression.length && expression[i] !== ']'; i += 1) {
    if (expression[i] === '\\') i += 1;
    else if (expression.startsWith('[:', i)) i = Math.max(i, expression.indexOf(':]', i + 2) + 1);
  }
  return i;
};

const skipEscape = (expression: string, start: number) => {
  const letter = expression[start + 1];
  if (letter === 'Q') {
    const end = expression.indexOf('\\E', start + 2);
    return end < 0 ? expression.length : end + 1;
  }
  if ((letter === 'p' || letter === 'P' || letter === 'x') && expression[start + 2] === '{') {
    const end = expression.indexOf('}', start + 3);
    return end < 0 ? expression.length : end;
  }
  return start + 1;
};

export const largestRepeatCount = (expression: string): number => {
  let largest = 0;
  for (let i = 0; i < expression.length; i += 1) {
    const char = expression[i];
    if (char === '\\') i = skipEscape(expression, i);
    else if (char === '[') i = skipClass(expression, i);
    else if (char === '{') {
      const count = COUNT.exec(expression.slice(i, i + 30));
      if (count) largest = Math.max(largest, Number(count[1]), count[2] ? Number(count[2]) : 0);
    }
  }
  return largest;
};
