import { encodePng, type Rgba } from './png';

/**
 * The logos amoCRM wants in a widget archive's images/ folder, with the sizes its docs give
 * (developers.kommo.com/docs/images: each PNG at most 300 KB; logo_dp.png when the widget works
 * in the Digital Pipeline).
 */
export const WIDGET_IMAGES = [
  { file: 'logo_main.png', width: 400, height: 272 },
  { file: 'logo.png', width: 130, height: 100 },
  { file: 'logo_small.png', width: 108, height: 108 },
  { file: 'logo_min.png', width: 84, height: 84 },
  { file: 'logo_medium.png', width: 240, height: 84 },
  { file: 'logo_dp.png', width: 174, height: 109 },
] as const;

export const MAX_IMAGE_BYTES = 300 * 1024;

const BRAND: Rgba = [38, 92, 214, 255];
const WHITE: Rgba = [255, 255, 255, 255];
const CLEAR: Rgba = [0, 0, 0, 0];

/** Inside a rectangle with rounded corners (radius r)? */
function inRoundedRect(x: number, y: number, left: number, top: number, width: number, height: number, r: number): boolean {
  if (x < left || y < top || x >= left + width || y >= top + height) return false;
  const cx = Math.min(Math.max(x, left + r), left + width - r);
  const cy = Math.min(Math.max(y, top + r), top + height - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

/**
 * Reglament's generated mark: a blue tile with a white card holding a funnel of three stages
 * (a sales pipeline). A stand-in drawn by the build so the archive uploads; artwork from the
 * design team replaces it by being put in apps/amocrm/widget/images/ under the same names.
 */
export function drawLogo(width: number, height: number): Buffer {
  const side = Math.round(Math.min(width, height) * 0.72);
  const left = Math.round((width - side) / 2);
  const top = Math.round((height - side) / 2);
  const bars = [0.78, 0.56, 0.34].map((share, i) => ({
    width: Math.round(side * share),
    top: top + Math.round(side * (0.2 + i * 0.23)),
    height: Math.max(2, Math.round(side * 0.14)),
  }));
  return encodePng(width, height, (x, y) => {
    if (!inRoundedRect(x, y, 0, 0, width, height, Math.round(Math.min(width, height) * 0.16))) return CLEAR;
    if (!inRoundedRect(x, y, left, top, side, side, Math.round(side * 0.12))) return BRAND;
    for (const bar of bars) {
      const barLeft = left + Math.round((side - bar.width) / 2);
      if (inRoundedRect(x, y, barLeft, bar.top, bar.width, bar.height, Math.floor(bar.height / 2))) return BRAND;
    }
    return WHITE;
  });
}
