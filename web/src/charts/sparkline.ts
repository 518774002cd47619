/** A sparkline on a small canvas: the line of recent prices, coloured by the move since the first point. */
export function drawSparkline(canvas: HTMLCanvasElement, values: readonly number[], up: string, down: string): void {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 90;
  const hgt = canvas.clientHeight || 24;
  if (canvas.width !== Math.round(w * dpr)) canvas.width = Math.round(w * dpr);
  if (canvas.height !== Math.round(hgt * dpr)) canvas.height = Math.round(hgt * dpr);
  const g = canvas.getContext('2d');
  if (g === null) return;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, hgt);
  if (values.length < 2) return;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi - lo || 1;
  g.beginPath();
  values.forEach((v, i) => {
    const x = (i / (values.length - 1)) * (w - 2) + 1;
    const y = hgt - 2 - ((v - lo) / span) * (hgt - 4);
    if (i === 0) g.moveTo(x, y);
    else g.lineTo(x, y);
  });
  g.strokeStyle = (values[values.length - 1] ?? 0) >= (values[0] ?? 0) ? up : down;
  g.lineWidth = 1.5;
  g.stroke();
}
