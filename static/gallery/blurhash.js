// BlurHash decoding (https://blurha.sh, the algorithm of woltapp/blurhash): turns the short
// string the API sends with every post into pixels for a placeholder, so a grid cell shows the
// picture's colours before the image arrives. Returns null for a malformed hash.

const DIGITS =
  '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~';

function decode83(str) {
  let value = 0;
  for (const c of str) {
    const digit = DIGITS.indexOf(c);
    if (digit < 0) return NaN;
    value = value * 83 + digit;
  }
  return value;
}

function toLinear(value) {
  const v = value / 255;
  return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
}

function toSrgb(value) {
  const v = Math.max(0, Math.min(1, value));
  return v <= 0.0031308
    ? Math.round(v * 12.92 * 255 + 0.5)
    : Math.round((1.055 * Math.pow(v, 1 / 2.4) - 0.055) * 255 + 0.5);
}

const signPow = (v, exp) => Math.sign(v) * Math.pow(Math.abs(v), exp);

/** RGBA pixels (width × height) for `hash`, or null when it is not a valid BlurHash. */
export function decode(hash, width, height) {
  if (typeof hash !== 'string' || hash.length < 6) return null;
  const size = decode83(hash[0]);
  const numY = Math.floor(size / 9) + 1;
  const numX = (size % 9) + 1;
  if (Number.isNaN(size) || hash.length !== 4 + 2 * numX * numY) return null;
  const maximum = (decode83(hash[1]) + 1) / 166;
  const colors = [];
  for (let i = 0; i < numX * numY; i++) {
    if (i === 0) {
      const dc = decode83(hash.substring(2, 6));
      colors.push([toLinear(dc >> 16), toLinear((dc >> 8) & 255), toLinear(dc & 255)]);
    } else {
      const ac = decode83(hash.substring(4 + i * 2, 6 + i * 2));
      colors.push([
        signPow((Math.floor(ac / 361) - 9) / 9, 2) * maximum,
        signPow(((Math.floor(ac / 19) % 19) - 9) / 9, 2) * maximum,
        signPow(((ac % 19) - 9) / 9, 2) * maximum,
      ]);
    }
  }
  if (colors.some((c) => c.some(Number.isNaN))) return null;
  const pixels = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let j = 0; j < numY; j++) {
        const by = Math.cos((Math.PI * y * j) / height);
        for (let i = 0; i < numX; i++) {
          const basis = Math.cos((Math.PI * x * i) / width) * by;
          const c = colors[i + j * numX];
          r += c[0] * basis;
          g += c[1] * basis;
          b += c[2] * basis;
        }
      }
      const o = 4 * (x + y * width);
      pixels[o] = toSrgb(r);
      pixels[o + 1] = toSrgb(g);
      pixels[o + 2] = toSrgb(b);
      pixels[o + 3] = 255;
    }
  }
  return pixels;
}

/** Paints `hash` onto a small canvas that CSS stretches over its box; a bad hash paints nothing. */
export function paint(canvas, hash) {
  const size = 32;
  const pixels = decode(hash, size, size);
  if (!pixels) return;
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.putImageData(new ImageData(pixels, size, size), 0, 0);
}
