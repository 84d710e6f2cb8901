// Regenerates the app icons in resources/ with ImageMagick (`convert`): icon.png (1024 px),
// icons/<n>x<n>.png (Linux), icon.ico (Windows) and icon.icns (macOS, PNG-based entries,
// written here because ImageMagick cannot write ICNS). Run by hand when the design changes;
// the outputs are committed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const resources = fileURLToPath(new URL('../resources/', import.meta.url));
const font = '/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf';
const master = path.join(resources, 'icon.png');
const convert = (...args) => execFileSync('convert', args, { stdio: 'inherit' });

// A prompt on a rounded navy square (macOS icon grid: 824 px body on a 1024 px canvas).
convert(
  '-size',
  '1024x1024',
  'gradient:#31477a-#121a30',
  '(',
  '-size',
  '1024x1024',
  'xc:black',
  '-fill',
  'white',
  '-draw',
  'roundrectangle 100,100 924,924 185,185',
  ')',
  '-alpha',
  'off',
  '-compose',
  'CopyOpacity',
  '-composite',
  '-font',
  font,
  '-pointsize',
  '460',
  '-gravity',
  'center',
  '-fill',
  '#eef2fa',
  '-annotate',
  '-120+0',
  '>',
  '-fill',
  '#f5a623',
  '-annotate',
  '+150+0',
  '_',
  `PNG32:${master}`,
);

const sized = (size) => {
  const file = path.join(resources, 'icons', `${size}x${size}.png`);
  convert(master, '-resize', `${size}x${size}`, `PNG32:${file}`);
  return file;
};
mkdirSync(path.join(resources, 'icons'), { recursive: true });
const pngs = Object.fromEntries([16, 32, 48, 64, 128, 256, 512, 1024].map((size) => [size, sized(size)]));

convert(...[16, 32, 48, 64, 128, 256].map((size) => pngs[size]), path.join(resources, 'icon.ico'));

// ICNS: 'icns', total length, then (type, length, PNG) entries.
const icnsTypes = [
  ['icp4', 16],
  ['icp5', 32],
  ['icp6', 64],
  ['ic07', 128],
  ['ic08', 256],
  ['ic09', 512],
  ['ic10', 1024],
  ['ic11', 32],
  ['ic12', 64],
  ['ic13', 256],
  ['ic14', 512],
];
const entries = icnsTypes.map(([type, size]) => {
  const png = readFileSync(pngs[size]);
  const header = Buffer.alloc(8);
  header.write(type, 0, 'ascii');
  header.writeUInt32BE(png.length + 8, 4);
  return Buffer.concat([header, png]);
});
const body = Buffer.concat(entries);
const head = Buffer.alloc(8);
head.write('icns', 0, 'ascii');
head.writeUInt32BE(body.length + 8, 4);
writeFileSync(path.join(resources, 'icon.icns'), Buffer.concat([head, body]));
console.log('wrote resources/icon.png, icons/, icon.ico, icon.icns');
