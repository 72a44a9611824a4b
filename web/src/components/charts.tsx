/** Two small SVG charts (bars with confidence intervals, line curves): plain SVG keeps the bundle small. */

import { seriesColor } from "../lib/color";

export interface BarDatum {
  label: string;
  value: number;
  low?: number | null;
  high?: number | null;
}

/** Horizontal bars, one per model, with the 95% interval drawn as a whisker. */
export function BarChartCI({ title, data }: { title: string; data: BarDatum[] }) {
  const rowHeight = 28;
  const labelWidth = 96;
  const width = 360;
  const plotWidth = width - labelWidth - 48;
  const max = Math.max(1e-9, ...data.map((d) => Math.max(d.value, d.high ?? 0)));
  const x = (v: number) => labelWidth + (v / max) * plotWidth;
  const height = data.length * rowHeight + 8;
  return (
    <figure className="w-full">
      <figcaption className="mb-1 text-sm font-medium">{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} className="w-full" role="img" aria-label={`${title} by model`}>
        {data.map((d, i) => {
          const y = i * rowHeight + 4;
          const mid = y + rowHeight / 2 - 2;
          return (
            <g key={d.label}>
              <text x={labelWidth - 6} y={mid + 4} textAnchor="end" className="fill-current text-[11px]">
                {d.label}
              </text>
              <rect x={labelWidth} y={y + 4} width={Math.max(1, x(d.value) - labelWidth)} height={rowHeight - 12} rx={3} fill={seriesColor(i)} opacity={0.85} />
              {d.low != null && d.high != null ? (
                <g stroke="currentColor" strokeWidth={1.5}>
                  <line x1={x(d.low)} x2={x(d.high)} y1={mid} y2={mid} />
                  <line x1={x(d.low)} x2={x(d.low)} y1={mid - 5} y2={mid + 5} />
                  <line x1={x(d.high)} x2={x(d.high)} y1={mid - 5} y2={mid + 5} />
                </g>
              ) : null}
              <text x={Math.max(x(d.value), x(d.high ?? 0)) + 4} y={mid + 4} className="fill-current text-[10px]">
                {d.value.toFixed(3)}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

export interface Series {
  name: string;
  values: number[];
}

/** Lines over epochs, one per series, with a legend; the y-axis spans the data's range. */
export function LineChart({ title, series, xLabel = "epoch" }: { title: string; series: Series[]; xLabel?: string }) {
  const width = 360;
  const height = 180;
  const pad = { left: 40, right: 8, top: 8, bottom: 24 };
  const all = series.flatMap((s) => s.values).filter((v) => Number.isFinite(v));
  const n = Math.max(2, ...series.map((s) => s.values.length));
  const lo = all.length ? Math.min(...all) : 0;
  const hi = all.length ? Math.max(...all) : 1;
  const span = hi - lo || 1;
  const x = (i: number) => pad.left + (i / (n - 1)) * (width - pad.left - pad.right);
  const y = (v: number) => pad.top + (1 - (v - lo) / span) * (height - pad.top - pad.bottom);
  return (
    <figure className="w-full">
      <figcaption className="mb-1 text-sm font-medium">{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} className="w-full" role="img" aria-label={`${title} per ${xLabel}`}>
        <g className="text-zinc-400" stroke="currentColor" strokeWidth={0.5}>
          <line x1={pad.left} x2={width - pad.right} y1={height - pad.bottom} y2={height - pad.bottom} />
          <line x1={pad.left} x2={pad.left} y1={pad.top} y2={height - pad.bottom} />
        </g>
        <text x={pad.left - 4} y={pad.top + 8} textAnchor="end" className="fill-current text-[9px]">
          {hi.toPrecision(3)}
        </text>
        <text x={pad.left - 4} y={height - pad.bottom} textAnchor="end" className="fill-current text-[9px]">
          {lo.toPrecision(3)}
        </text>
        <text x={(width + pad.left) / 2} y={height - 6} textAnchor="middle" className="fill-current text-[9px]">
          {xLabel} (1–{n})
        </text>
        {series.map((s, si) => (
          <polyline
            key={s.name}
            fill="none"
            stroke={seriesColor(si)}
            strokeWidth={1.8}
            points={s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ")}
          />
        ))}
      </svg>
      <ul className="mt-1 flex flex-wrap gap-3 text-xs">
        {series.map((s, si) => (
          <li key={s.name} className="flex items-center gap-1">
            <span aria-hidden="true" className="inline-block h-2 w-3 rounded-sm" style={{ background: seriesColor(si) }} />
            {s.name}
          </li>
        ))}
      </ul>
    </figure>
  );
}
