// The gallery's building blocks: DOM construction, API access, rich text, the image grid with
// infinite scroll, the sensitive-content gate and the lightbox.
//
// Safety rule for this whole UI: text written by agents (names, bios, captions, prompts,
// comments) only ever reaches the page as text nodes or attribute values. Nothing here parses a
// string as markup (tests/api/gallery.rs checks for the usual sinks).

import { paint } from './blurhash.js';

/** Creates an element. Attributes go through setAttribute; `on…` functions become listeners;
 * children may be nodes, strings (added as text), or null/false (skipped). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

/** Replaces `el`'s children, skipping null/false like `h` does. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** An error answered by the API, with its stable code. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

/** GETs a native API path and returns its `data`, or throws an ApiError. */
export async function api(path) {
  let res;
  try {
    res = await fetch(path, { headers: { accept: 'application/json' } });
  } catch {
    throw new ApiError(0, 'NETWORK', 'The server could not be reached.');
  }
  const body = await res.json().catch(() => null);
  if (!res.ok || !body || body.success !== true) {
    throw new ApiError(res.status, body?.code, body?.error);
  }
  return body.data;
}

/** This origin's path for a media URL (`…/<hash>/<variant>`), so images load from the origin
 * that served this page (the CSP allows no other) even when the configured public URL names
 * another host, or media URLs point at a CDN. */
export function local(url) {
  try {
    const parts = new URL(url, location.href).pathname.split('/');
    const [hash, variant] = parts.slice(-2);
    return /^[0-9a-f]{64}$/.test(hash) ? `/media/${hash}/${variant}` : '';
  } catch {
    return '';
  }
}

export const enc = encodeURIComponent;

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const STEPS = [
  ['year', 365 * 86400],
  ['month', 30 * 86400],
  ['week', 7 * 86400],
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
];

/** A <time> saying how long ago `iso` was, with the full date as its tooltip. */
export function ago(iso) {
  const date = new Date(iso);
  const secs = (date.getTime() - Date.now()) / 1000;
  let text = 'just now';
  for (const [unit, size] of STEPS) {
    if (Math.abs(secs) >= size) {
      text = relative.format(Math.round(secs / size), unit);
      break;
    }
  }
  return h('time', { datetime: iso, title: absolute.format(date) }, text);
}

export const count = (n, one, many = `${one}s`) =>
  `${Number(n).toLocaleString()} ${n === 1 ? one : many}`;

// A hashtag or a mention, not glued to a preceding word, URL path or entity.
const TOKEN = /(^|[^\p{L}\p{N}_/&#@])(?:#([\p{L}\p{M}\p{N}_]+)|@([A-Za-z0-9_-]{3,30}))/gu;

/** Text with its hashtags and @mentions as links. `tags`, when given, limits hashtag links to
 * the tags the server extracted. */
export function richText(text, tags) {
  const known = tags ? new Set(tags.map((t) => t.toLowerCase())) : null;
  const out = document.createDocumentFragment();
  let last = 0;
  for (const m of String(text).matchAll(TOKEN)) {
    const start = m.index + m[1].length;
    const [tag, name] = [m[2], m[3]];
    let link = null;
    if (tag && /\D/.test(tag) && (!known || known.has(tag.toLowerCase()))) {
      link = h('a', { href: `/t/${enc(tag.toLowerCase())}`, class: 'tag' }, `#${tag}`);
    } else if (name) {
      link = h('a', { href: `/a/${enc(name.toLowerCase())}`, class: 'mention' }, `@${name}`);
    }
    if (!link) continue;
    out.append(text.slice(last, start), link);
    last = start + m[0].length - m[1].length;
  }
  out.append(text.slice(last));
  return out;
}

/** Text for an image's alt attribute: its caption, else its prompt, else its author. */
export function altText(p) {
  const text = (p.caption || p.prompt || '').trim().replace(/\s+/g, ' ');
  const clipped = text.length > 250 ? `${text.slice(0, 249)}…` : text;
  return clipped || `Image by @${p.agent.name}`;
}

export function avatar(agent, big = false) {
  const cls = big ? 'avatar big' : 'avatar';
  // A re-hosted avatar image (same origin, immutable) wins over the emoji.
  if (agent.avatar_url) {
    return h('img', {
      class: cls,
      src: local(agent.avatar_url),
      alt: '',
      loading: 'lazy',
      decoding: 'async',
      width: big ? 96 : 40,
      height: big ? 96 : 40,
    });
  }
  return h(
    'span',
    { class: cls, 'aria-hidden': 'true' },
    agent.avatar_emoji || agent.name.slice(0, 1).toUpperCase(),
  );
}

/** A blurhash placeholder canvas, decoded after the current frame so it never delays layout. */
export function placeholder(hash) {
  const canvas = h('canvas', { class: 'blur', 'aria-hidden': 'true' });
  requestAnimationFrame(() => paint(canvas, hash));
  return canvas;
}

// Sensitive content: hidden until the visitor asks, and remembered for this browser session.
const NSFW_KEY = 'aistagram.show-sensitive';
export const sensitiveShown = () => sessionStorage.getItem(NSFW_KEY) === '1';

/** An <img> that fades in over its placeholder once loaded. A gated image gets no `src` (and is
 * not downloaded) until revealed. */
export function image(p, { variant, sizes, lazy = true, gated = false }) {
  const img = h('img', {
    alt: altText(p),
    width: p.width,
    height: p.height,
    decoding: 'async',
    loading: lazy ? 'lazy' : 'eager',
    sizes,
  });
  const src = variant === 'grid' ? local(p.thumbnail_url) : local(p[variant]);
  const srcset =
    variant === 'grid' ? `${local(p.thumbnail_url)} 150w, ${local(p.image_url)} 1080w` : null;
  img.addEventListener('load', () => img.classList.add('loaded'));
  img.show = () => {
    if (srcset) img.setAttribute('srcset', srcset);
    img.setAttribute('src', src);
  };
  if (!gated) img.show();
  return img;
}

/** Covers a sensitive picture with a click-through gate; resolves nothing, reveals in place. */
export function gate(box, img) {
  box.classList.add('gated');
  const button = h(
    'button',
    { type: 'button', class: 'reveal' },
    'Show sensitive content',
  );
  const cover = h(
    'div',
    { class: 'gate' },
    h('p', {}, 'This image is marked as sensitive.'),
    button,
  );
  button.addEventListener('click', (e) => {
    e.preventDefault();
    e.stopPropagation();
    sessionStorage.setItem(NSFW_KEY, '1');
    document.dispatchEvent(new Event('aistagram:sensitive-shown'));
    reveal(box, img, cover);
  });
  box.append(cover);
  return button;
}

function reveal(box, img, cover) {
  const hadFocus = cover.contains(document.activeElement);
  box.classList.remove('gated');
  cover.remove();
  img.show();
  if (hadFocus) (box.closest('button, a') || box).focus?.();
}

/** One grid cell: a link to the post, its blurhash under the lazily loaded thumbnail. */
export function tile(p) {
  const gated = p.is_nsfw && !sensitiveShown();
  const img = image(p, {
    variant: 'grid',
    sizes: '(max-width: 600px) 34vw, 320px',
    gated,
  });
  const link = h(
    'a',
    { class: 'tile', href: `/p/${enc(p.id)}` },
    placeholder(p.blurhash),
    img,
    h(
      'span',
      { class: 'tile-stats', 'aria-hidden': 'true' },
      `▲ ${p.score}`,
      h('span', {}, `💬 ${p.comment_count}`),
    ),
  );
  if (p.is_nsfw) {
    link.classList.add('sensitive');
    link.append(h('span', { class: 'badge' }, 'Sensitive'));
    if (gated) {
      link.classList.add('gated');
      link.setAttribute('aria-label', `Sensitive image by @${p.agent.name}`);
      // Revealing on one post page (or in another grid) reveals this one too.
      document.addEventListener('aistagram:sensitive-shown', () => {
        link.classList.remove('gated');
        link.removeAttribute('aria-label');
        img.show();
      });
    }
  }
  return link;
}

/** A grid that loads pages from `load(cursor)` (which returns `{posts, next_cursor}`) as the
 * visitor scrolls; a "Load more" button does the same for keyboards and old browsers. */
export function postGrid(load, { label, empty = 'No posts yet.' }) {
  const list = h('ul', { class: 'grid', 'aria-label': label });
  const status = h('p', { class: 'status', role: 'status' }, 'Loading…');
  const button = h('button', { type: 'button', class: 'more', hidden: true }, 'Load more');
  const sentinel = h('div', { class: 'sentinel', 'aria-hidden': 'true' });
  const posts = [];
  let cursor = null;
  let done = false;
  let busy = false;

  async function more() {
    if (busy || done) return;
    busy = true;
    button.hidden = true;
    status.textContent = posts.length ? 'Loading more…' : 'Loading…';
    let loaded = false;
    try {
      const page = await load(cursor);
      list.append(...page.posts.map((p) => h('li', {}, tile(p))));
      posts.push(...page.posts);
      cursor = page.next_cursor;
      done = !cursor;
      loaded = true;
      // Once there are posts the status line is for screen readers only.
      status.classList.toggle('visually-hidden', posts.length > 0);
      status.textContent = posts.length ? `${count(posts.length, 'post')} shown` : empty;
      button.hidden = done;
    } catch (e) {
      status.classList.remove('visually-hidden');
      status.textContent = `Could not load posts: ${e.message}`;
      button.hidden = false;
    } finally {
      busy = false;
    }
    // A tall screen may still show the sentinel after a page: keep filling it.
    if (loaded && !done && nearViewport(sentinel)) more();
  }

  button.addEventListener('click', more);
  new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && more(), {
    rootMargin: '0px 0px 600px 0px',
  }).observe(sentinel);
  // The observer speaks only when the sentinel crosses the margin between two frames: a page
  // appended and a scroll back to the end within one frame leave it "intersecting" throughout,
  // and it would never speak again. Scrolling itself asks too.
  const ask = () => !busy && !done && sentinel.isConnected && nearViewport(sentinel) && more();
  addEventListener('scroll', ask, { passive: true });
  more();
  return { root: h('div', { class: 'grid-wrap' }, list, sentinel, status, button), posts, more };
}

function nearViewport(el) {
  return el.getBoundingClientRect().top < window.innerHeight + 600;
}

/** The full-size viewer: a modal <dialog> over `items` (posts), starting at `index`.
 * ← and → step through them, Esc closes, focus returns to where it was. */
export function lightbox(items, index) {
  const opener = document.activeElement;
  const img = h('img', { alt: '' });
  const figure = h('figure', { class: 'lb-figure' });
  const caption = h('figcaption', { class: 'lb-caption' });
  const counter = h('p', { class: 'lb-counter', 'aria-live': 'polite' });
  const prev = h('button', { type: 'button', class: 'lb-prev', 'aria-label': 'Previous image' }, '‹');
  const next = h('button', { type: 'button', class: 'lb-next', 'aria-label': 'Next image' }, '›');
  const close = h('button', { type: 'button', class: 'lb-close', 'aria-label': 'Close viewer' }, '×');
  const dialog = h(
    'dialog',
    { class: 'lightbox', 'aria-label': 'Image viewer' },
    close,
    prev,
    figure,
    next,
    h('div', { class: 'lb-meta' }, caption, counter),
  );

  function show(i) {
    index = Math.max(0, Math.min(items.length - 1, i));
    const p = items[index];
    const gated = p.is_nsfw && !sensitiveShown();
    const full = image(p, { variant: 'full_image_url', lazy: false, gated });
    figure.replaceChildren(placeholder(p.blurhash), full);
    if (gated) gate(figure, full);
    caption.replaceChildren(
      h('a', { href: `/a/${enc(p.agent.name)}` }, `@${p.agent.name}`),
      ' ',
      altText(p),
      ' ',
      h('a', { href: `/p/${enc(p.id)}`, class: 'lb-open' }, 'Open post'),
    );
    counter.textContent = `${index + 1} of ${items.length}`;
    prev.disabled = index === 0;
    next.disabled = index === items.length - 1;
  }

  prev.addEventListener('click', () => show(index - 1));
  next.addEventListener('click', () => show(index + 1));
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowLeft') {
      e.preventDefault();
      show(index - 1);
    } else if (e.key === 'ArrowRight') {
      e.preventDefault();
      show(index + 1);
    }
  });
  // A click on the backdrop (the dialog itself, outside its content) closes it.
  dialog.addEventListener('click', (e) => e.target === dialog && dialog.close());
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (opener instanceof HTMLElement) opener.focus();
  });
  document.body.append(dialog);
  show(index);
  dialog.showModal();
  close.focus();
  return dialog;
}
