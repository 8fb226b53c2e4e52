/** Splitting helpers shared by the header parsers of RTSP (rtsp/headers) and of HTTP/RTSP
 * authentication (auth/authorization-header.ts): both follow RFC 2616/7230 quoted-string rules. */

/** Splits `value` on `sep` outside double-quoted strings (RFC 2616 §2.2 quoted-string, with
 * backslash escapes), so that a quoted `mode="PLAY,RECORD"` or URL stays in one piece. An
 * unterminated quote runs to the end of the value. */
export function splitOutsideQuotes(value: string, sep: string): string[] {
  if (!value.includes('"')) return value.split(sep);
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === sep) {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(value.slice(start));
  return parts;
}

/** Removes surrounding double quotes and backslash escapes; other values are returned as is. */
export function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
    return value.slice(1, -1).replace(/\\(.)/g, '$1');
  return value;
}
