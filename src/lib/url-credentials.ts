/**
 * Credentials inside URLs, hidden as "***": the one rule behind the config's printed form
 * (`config/fields.ts` redactUrl) and every log line (`observability/logger.ts` scrubUrls).
 *
 * - the password of `scheme://user:password@host` (the user name stays: `postgres://app:***@db`);
 * - for http(s), a user name alone too: `https://<token>@hooks.example` is how many services put
 *   an API token in a webhook URL;
 * - query parameters named like a credential (`?token=`, `?key=`, `api_key`, `access_token`,
 *   `secret`, `password`, `sig`, `auth`, `code`...), whatever the scheme.
 */

const URL_CENSOR = '***';

/** Query parameter names whose values are credentials (whole name, or a word of it). */
const CREDENTIAL_PARAM = /^(?:[\w.-]*[_.-])?(?:token|secret|password|passwd|pwd|pass|key|apikey|sig|signature|auth|authorization|credential|credentials|code|session|sessionid|jwt|bearer|hash)$/i;
const CREDENTIAL_PARAM_LOOSE = /(?:token|secret|passw|apikey|api_key|api-key|signature|credential|bearer)/i;

/** A URL with its credentials hidden; text that is not a URL comes back unchanged. */
export function redactUrlCredentials(url: string): string {
  const userinfo = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i.exec(url);
  let out = url;
  if (userinfo !== null) {
    const [whole, scheme = '', info = ''] = userinfo;
    const colon = info.indexOf(':');
    if (colon >= 0) out = `${scheme}${info.slice(0, colon)}:${URL_CENSOR}@${url.slice(whole.length)}`;
    else if (/^https?:\/\/$/i.test(scheme) && info !== '') out = `${scheme}${URL_CENSOR}@${url.slice(whole.length)}`;
  }
  return redactQuery(out);
}

/** `?a=1&token=x#f` -> `?a=1&token=***#f`. */
function redactQuery(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const hash = url.indexOf('#', q);
  const end = hash < 0 ? url.length : hash;
  const query = url
    .slice(q + 1, end)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      let name = pair.slice(0, eq);
      try {
        name = decodeURIComponent(name);
      } catch {
        // a malformed escape: judge the name as written
      }
      return isCredentialParam(name) && pair.length > eq + 1 ? `${pair.slice(0, eq)}=${URL_CENSOR}` : pair;
    })
    .join('&');
  return `${url.slice(0, q + 1)}${query}${url.slice(end)}`;
}

function isCredentialParam(name: string): boolean {
  return CREDENTIAL_PARAM.test(name) || CREDENTIAL_PARAM_LOOSE.test(name);
}

/** A URL written inside free text: a scheme, `://`, then up to whitespace or a quote or bracket. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

/** Every URL inside `text` with its credentials hidden. */
export function redactUrlsInText(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(URL_IN_TEXT, (u) => redactUrlCredentials(u));
}
