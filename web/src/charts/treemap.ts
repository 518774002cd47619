import { TreemapChart } from 'echarts/charts';
import { TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';

// Only the parts the treemap uses: the whole of ECharts would triple the bundle.
echarts.use([TreemapChart, TooltipComponent, CanvasRenderer]);

export interface TreemapLeaf {
  symbol: string;
  name: string;
  sector: string;
  size: number;
  changePct: number;
  label: string;
}

export interface Treemap {
  update(leaves: readonly TreemapLeaf[], colors: { up: string; down: string; flat: string; text: string; label: string; border: string }): void;
  resize(): void;
  dispose(): void;
}

function mix(a: string, b: string, t: number): string {
  const p = (c: string): number[] => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
  const x = p(a);
  const y = p(b);
  return `#${x.map((v, i) => Math.round(v + ((y[i] ?? v) - v) * t).toString(16).padStart(2, '0')).join('')}`;
}

/**
 * Colour by change: flat at 0 %, full up/down colour at ±`scale` %. The scale follows the day's
 * largest move (at least 0.1 %), so a quiet session still shows who is up and who is down.
 */
function changeTone(pct: number, scale: number): number {
  return Math.min(1, Math.abs(pct) / scale);
}

/** A market treemap grouped by sector; a click on a symbol calls `onPick`. */
export function createTreemap(el: HTMLElement, onPick: (symbol: string) => void): Treemap {
  const chart = echarts.init(el, null, { renderer: 'canvas' });
  chart.on('click', (p) => {
    const d = p.data as { symbol?: string } | undefined;
    if (d?.symbol) onPick(d.symbol);
  });
  return {
    update(leaves, colors) {
      const sectors = new Map<string, TreemapLeaf[]>();
      for (const l of leaves) {
        let list = sectors.get(l.sector);
        if (list === undefined) sectors.set(l.sector, (list = []));
        list.push(l);
      }
      const scale = Math.max(0.1, ...leaves.map((l) => Math.abs(l.changePct)));
      chart.setOption(
        {
          animation: false,
          tooltip: {
            formatter: (info: { data?: { tip?: string } }) => info.data?.tip ?? '',
          },
          series: [
            {
              type: 'treemap',
              roam: false,
              nodeClick: false,
              breadcrumb: { show: false },
              left: 0,
              top: 0,
              width: '100%',
              height: '100%',
              upperLabel: { show: true, height: 18, color: colors.label, fontSize: 11 },
              label: { show: true, formatter: '{b}', fontSize: 12, lineHeight: 16, color: '#fff', overflow: 'truncate' },
              itemStyle: { borderColor: colors.border, borderWidth: 1, gapWidth: 1 },
              levels: [{ itemStyle: { borderWidth: 2, gapWidth: 2, borderColor: colors.border } }, { itemStyle: { gapWidth: 1 } }],
              data: [...sectors].map(([sector, list]) => ({
                name: sector,
                value: list.reduce((n, l) => n + l.size, 0),
                itemStyle: { color: colors.border },
                children: list.map((l) => ({
                  name: `${l.symbol}\n${l.changePct >= 0 ? '+' : ''}${l.changePct.toFixed(2)}%`,
                  symbol: l.symbol,
                  value: l.size,
                  tip: `${l.symbol} · ${l.name}<br>${l.label}<br>${l.changePct >= 0 ? '+' : ''}${l.changePct.toFixed(2)}%`,
                  itemStyle: { color: mix(colors.flat, l.changePct >= 0 ? colors.up : colors.down, changeTone(l.changePct, scale)) },
                  // Light text on a strong colour, the theme's text on a pale one.
                  label: { color: changeTone(l.changePct, scale) > 0.45 ? '#fff' : colors.text },
                })),
              })),
            },
          ],
        },
        { replaceMerge: ['series'] },
      );
    },
    resize: () => chart.resize(),
    dispose: () => chart.dispose(),
  };
}
