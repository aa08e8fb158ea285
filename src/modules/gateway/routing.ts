// Which service and upstream path a gateway URL names. Pure.

/** Splits `/gateway/<service>/<rest>` or `/proxy/<service>/<rest>`; `path` keeps the query string. */
export function routeGatewayUrl(url: string): { service: string; path: string } | undefined {
  let start: number;
  if (url.startsWith('/gateway/')) start = 9;
  else if (url.startsWith('/proxy/')) start = 7;
  else return undefined;
  let end = start;
  while (end < url.length) {
    const c = url.charCodeAt(end);
    if (c === 47 /* / */ || c === 63 /* ? */) break;
    end++;
  }
  const service = url.slice(start, end);
  if (!isServiceName(service)) return undefined;
  if (end === url.length) return { service, path: '/' };
  return { service, path: url.charCodeAt(end) === 47 ? url.slice(end) : '/' + url.slice(end) };
}

const PREVIEW_SUFFIX = '--preview';

/** An RFC 1123 label, optionally followed by `--preview` (blue/green preview routes). */
function isServiceName(name: string): boolean {
  const base = name.endsWith(PREVIEW_SUFFIX) ? name.slice(0, -PREVIEW_SUFFIX.length) : name;
  if (base.length === 0 || base.length > 63) return false;
  for (let i = 0; i < base.length; i++) {
    const c = base.charCodeAt(i);
    const alnum = (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
    if (!alnum && (c !== 45 /* - */ || i === 0 || i === base.length - 1)) return false;
  }
  return true;
}
