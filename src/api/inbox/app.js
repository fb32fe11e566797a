// @ts-check
/**
 * The agent inbox: conversations (unanswered first), the thread with delivery ticks from receipts,
 * live updates over Server-Sent Events (read with fetch, so the token travels as a header and never
 * in a URL), a reply box that shows the encoding and segments as you type, assign, close, hand back.
 * Plain ES modules served as they are; the token is kept in sessionStorage (this tab only).
 */
import { planSegments } from './segments.js';
import { GSM7_BASIC, GSM7_EXTENSION } from './gsm7-alphabet.js';

const ALPHABET = { basic: GSM7_BASIC, extension: GSM7_EXTENSION };
const TOKEN_KEY = 'parley.token';

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const state = {
  /** @type {string | null} */ token: sessionStorage.getItem(TOKEN_KEY),
  /** @type {{ name: string, scopes: string[] } | null} */ me: null,
  /** @type {string | null} */ selected: null,
  /** @type {any} */ thread: null,
  /** @type {string | null} */ lastEventId: null,
  /** @type {AbortController | null} */ follow: null,
};

class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} reason */
  constructor(status, code, reason) {
    super(reason);
    this.status = status;
    this.code = code;
  }
}

/**
 * @param {string} path
 * @param {{ method?: string, body?: unknown }} [options]
 */
async function api(path, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { authorization: `Bearer ${state.token}` };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method: options.method ?? 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new ApiError(res.status, body?.error?.code ?? 'error', body?.error?.reason ?? res.statusText);
    if (res.status === 401) signOut(err.message);
    throw err;
  }
  return body;
}

/** @param {string} iso */
function when(iso) {
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : d.toLocaleDateString();
}

/** @param {string} tag @param {string} [className] @param {string} [text] */
function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

const TICKS = /** @type {Record<string, [string, string]>} */ ({
  queued: ['🕓', 'queued'],
  submitted: ['✓', 'sent to the carrier'],
  delivered: ['✓✓', 'delivered'],
  partially_delivered: ['✓✓', 'some parts delivered'],
  undeliverable: ['✗', 'undeliverable'],
  expired: ['✗', 'expired'],
  rejected: ['✗', 'rejected'],
  failed: ['✗', 'failed'],
  unknown: ['?', 'unknown'],
});

// ---- the list ----

async function loadList() {
  const [waiting, rest] = await Promise.all([
    api('/v1/conversations?unanswered=true&limit=100'),
    api('/v1/conversations?unanswered=false&limit=100'),
  ]);
  const ul = $('conversations');
  ul.replaceChildren();
  for (const c of [...waiting.conversations, ...rest.conversations]) {
    const li = el('li', `conversation${c.id === state.selected ? ' selected' : ''}`);
    li.dataset.id = c.id;
    if (c.unanswered) li.dataset.unanswered = 'true';
    const row = el('div', 'row');
    const who = el('span', 'who', `+${c.customer}`.replace(/^\+(?=\D)/, ''));
    if (c.unanswered) who.append(el('span', 'badge unanswered', 'unanswered'));
    if (c.status !== 'open') who.append(el('span', `badge ${c.status}`, c.status === 'assigned' ? `${c.assigned_to}` : c.status));
    row.append(who, el('span', 'when', when(c.last_activity_at)));
    li.append(row, el('div', 'preview', c.last ? `${c.last.direction === 'out' ? 'You: ' : ''}${c.last.text}` : ''));
    li.addEventListener('click', () => select(c.id));
    ul.append(li);
  }
}

// ---- the thread ----

/** @param {string} id */
async function select(id) {
  state.selected = id;
  for (const li of document.querySelectorAll('.conversation')) li.classList.toggle('selected', /** @type {HTMLElement} */ (li).dataset.id === id);
  $('empty').hidden = true;
  $('conversation').hidden = false;
  await loadThread();
  /** @type {HTMLTextAreaElement} */ ($('reply')).focus();
}

/** @param {any} e */
function describeInbound(e) {
  if (e.status !== 'handled') return 'being handled…';
  const what = e.matched_kind === 'none' || !e.matched_kind ? 'no rule matched' : `${e.matched_kind.replace('_', ' ')}${e.keyword ? ` ${e.keyword}` : ''}`;
  const did = (e.actions ?? []).map((/** @type {any} */ a) => a.kind).filter(Boolean).join(', ');
  return did ? `${what} → ${did}` : what;
}

async function loadThread() {
  const id = state.selected;
  if (id === null) return;
  const t = await api(`/v1/conversations/${id}`);
  if (state.selected !== id) return;
  state.thread = t;
  const c = t.conversation;
  $('customer').textContent = `+${c.customer}`.replace(/^\+(?=\D)/, '');
  const details = [`to ${c.our_number}`, c.status === 'assigned' ? `assigned to ${c.assigned_to}` : c.status];
  if (c.state) details.push(`state ${c.state}`);
  if (t.opted_out) details.push('OPTED OUT: answers are not sent');
  $('details').textContent = details.join(' · ');
  const ended = c.status === 'closed';
  /** @type {HTMLButtonElement} */ ($('assign')).disabled = ended || c.status === 'expired' || c.assigned_to === state.me?.name;
  /** @type {HTMLButtonElement} */ ($('handback')).disabled = c.status !== 'assigned';
  /** @type {HTMLButtonElement} */ ($('close')).disabled = ended;
  /** @type {HTMLButtonElement} */ ($('send')).disabled = ended;
  const ol = $('entries');
  const atBottom = ol.scrollHeight - ol.scrollTop - ol.clientHeight < 40;
  ol.replaceChildren();
  for (const e of t.entries) {
    const li = el('li', `entry ${e.direction}`, e.text);
    li.dataset.id = e.id;
    const meta = el('span', 'meta', when(e.at));
    if (e.direction === 'out') {
      const [glyph, title] = TICKS[e.status] ?? ['?', e.status];
      const tick = el('span', 'tick', glyph);
      tick.dataset.status = e.status;
      tick.title = e.error_code ? `${title}: ${e.error_code}` : title;
      meta.append(tick);
      if (e.error_code) meta.append(` ${e.error_code}`);
      if (e.metadata?.agent) meta.prepend(`${e.metadata.agent} · `);
      else if (e.reply_to) meta.prepend('automatic · ');
    } else {
      meta.append(` · ${describeInbound(e)}`);
    }
    li.append(meta);
    ol.append(li);
  }
  if (atBottom || ol.dataset.for !== id) ol.scrollTop = ol.scrollHeight;
  ol.dataset.for = id;
}

/** @param {'assign' | 'handback' | 'close'} action */
async function act(action) {
  if (state.selected === null) return;
  try {
    await api(`/v1/conversations/${state.selected}/${action}`, { method: 'POST', body: {} });
  } catch (err) {
    $('reply-error').textContent = /** @type {Error} */ (err).message;
  }
  await Promise.all([loadThread(), loadList()]);
}

function updateCounter() {
  const text = /** @type {HTMLTextAreaElement} */ ($('reply')).value;
  const plan = planSegments(text, ALPHABET);
  $('counter').textContent = `${plan.encoding} · ${plan.segments} segment${plan.segments === 1 ? '' : 's'} · ${plan.units} ${
    plan.encoding === 'GSM-7' ? 'septets' : 'UCS-2 units'
  } · ${plan.remaining} left in this segment`;
}

async function sendAnswer() {
  const box = /** @type {HTMLTextAreaElement} */ ($('reply'));
  const text = box.value;
  if (state.selected === null || text.trim() === '') return;
  $('reply-error').textContent = '';
  try {
    const accepted = await api(`/v1/conversations/${state.selected}/messages`, { method: 'POST', body: { text } });
    if (accepted.error) $('reply-error').textContent = `not sent: ${accepted.error.code}`;
    box.value = '';
    updateCounter();
  } catch (err) {
    $('reply-error').textContent = /** @type {Error} */ (err).message;
  }
  await Promise.all([loadThread(), loadList()]);
}

// ---- live updates ----

/** Coalesces refreshes asked for within a moment into one. */
function debounce(/** @type {() => Promise<void>} */ fn, ms = 80) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(() => fn().catch((err) => console.warn(err)), ms);
  };
}
const refreshList = debounce(loadList);
const refreshThread = debounce(loadThread);

/** @param {string} type @param {any} data */
function onEvent(type, data) {
  if (type === 'message.inbound') {
    refreshList();
    if (data.conversation_id === state.selected) refreshThread();
  } else if (type === 'message.status') {
    if (state.thread?.entries.some((/** @type {any} */ e) => e.id === data.id)) refreshThread();
    if (data.status === 'queued') refreshList();
  }
}

/** Follows /v1/events until signed out, resuming from the last event id after a drop. */
async function follow() {
  state.follow?.abort();
  const controller = new AbortController();
  state.follow = controller;
  const live = $('live');
  while (!controller.signal.aborted) {
    try {
      /** @type {Record<string, string>} */
      const headers = { authorization: `Bearer ${state.token}`, accept: 'text/event-stream' };
      if (state.lastEventId) headers['last-event-id'] = state.lastEventId;
      const res = await fetch('/v1/events', { headers, signal: controller.signal });
      if (res.status === 401 || res.status === 403) {
        // The token was revoked or lacks read: nothing to retry with.
        const body = await res.json().catch(() => ({}));
        signOut(body?.error?.reason ?? `events: HTTP ${res.status}`);
        return;
      }
      if (!res.ok || !res.body) throw new Error(`events: HTTP ${res.status}`);
      live.textContent = 'live';
      live.classList.add('on');
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let type = 'message';
          const data = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) state.lastEventId = line.slice(4);
            else if (line.startsWith('event: ')) type = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length > 0 && type.startsWith('message.')) onEvent(type, JSON.parse(data.join('\n')));
        }
      }
    } catch (err) {
      if (controller.signal.aborted) return;
      console.warn(err);
    }
    live.textContent = 'reconnecting…';
    live.classList.remove('on');
    await new Promise((r) => setTimeout(r, 1000));
    // Anything missed while away is resumed from lastEventId; the list is reloaded all the same.
    refreshList();
  }
}

// ---- start ----

/** @param {string} [reason] */
function signOut(reason) {
  state.follow?.abort();
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  $('app').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = reason ?? '';
}

async function start() {
  try {
    state.me = await api('/v1/token');
  } catch (err) {
    if (/** @type {ApiError} */ (err).status !== 401) signOut(/** @type {Error} */ (err).message);
    return;
  }
  $('login').hidden = true;
  $('app').hidden = false;
  $('me').textContent = `${state.me?.name} (${state.me?.scopes.join(', ')})`;
  updateCounter();
  // Following first: nothing that happens while the list loads is missed.
  void follow();
  try {
    await loadList();
  } catch (err) {
    if (/** @type {ApiError} */ (err).status !== 401) signOut(/** @type {Error} */ (err).message);
  }
}

$('login').addEventListener('submit', (ev) => {
  ev.preventDefault();
  state.token = /** @type {HTMLInputElement} */ ($('token')).value.trim();
  sessionStorage.setItem(TOKEN_KEY, state.token);
  void start();
});
$('logout').addEventListener('click', () => signOut());
$('reply').addEventListener('input', updateCounter);
$('reply-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  void sendAnswer();
});
$('reply').addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) void sendAnswer();
});
$('assign').addEventListener('click', () => void act('assign'));
$('handback').addEventListener('click', () => void act('handback'));
$('close').addEventListener('click', () => void act('close'));

if (state.token) void start();
else $('login').hidden = false;
