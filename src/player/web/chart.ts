// A small canvas line chart of the last N one-second samples (latency and buffer on the player page).

export interface Series {
  readonly label: string;
  readonly color: string;
  readonly values: (number | undefined)[];
}

export class RingSeries {
  readonly values: (number | undefined)[] = [];
  constructor(private readonly size = 60) {}
  push(v: number | undefined): void {
    this.values.push(v);
    if (this.values.length > this.size) this.values.shift();
  }
}

export function drawChart(canvas: HTMLCanvasElement, series: readonly Series[], slots = 60, unit = 's'): void {
  const dpr = window.devicePixelRatio || 1;
  const cssW = canvas.clientWidth || 300;
  const cssH = canvas.clientHeight || 100;
  if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, cssW, cssH);

  let max = 1;
  for (const s of series) for (const v of s.values) if (v !== undefined && Number.isFinite(v)) max = Math.max(max, v);
  max = Math.ceil(max * 1.1);
  const left = 26;
  const top = 6;
  const w = cssW - left - 4;
  const hgt = cssH - top - 16;

  ctx.strokeStyle = '#ccc';
  ctx.fillStyle = '#777';
  ctx.font = '10px system-ui, sans-serif';
  ctx.lineWidth = 1;
  for (const frac of [0, 0.5, 1]) {
    const y = top + hgt * (1 - frac);
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(left + w, y);
    ctx.stroke();
    ctx.fillText(String(+(max * frac).toFixed(1)), 2, y + 3);
  }
  ctx.fillText(`-${slots}s`, left, cssH - 3);
  ctx.fillText('now', left + w - 18, cssH - 3);

  let legendX = left + 40;
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    let pen = false;
    const offset = slots - s.values.length;
    s.values.forEach((v, i) => {
      if (v === undefined || !Number.isFinite(v)) {
        pen = false;
        return;
      }
      const x = left + (w * (offset + i)) / (slots - 1);
      const y = top + hgt * (1 - Math.min(v, max) / max);
      if (pen) ctx.lineTo(x, y);
      else ctx.moveTo(x, y);
      pen = true;
    });
    ctx.stroke();
    ctx.fillStyle = s.color;
    ctx.fillText(`${s.label} (${unit})`, legendX, cssH - 3);
    legendX += ctx.measureText(`${s.label} (${unit})`).width + 14;
  }
}
