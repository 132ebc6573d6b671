import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import { type Attempt, chartColumns, summary } from "./attempts.ts";

const HEIGHT = 180;

/**
 * Latency per push attempt over time: successes as a line with dots, failures as larger
 * hollow dots with no line (so they differ by shape, not colour alone); the caption says
 * the same in words for screen readers, which skip the canvas.
 */
export function AttemptsChart(props: { attempts: readonly Attempt[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const element = box.current;
    if (element === null) return;
    plot.current = new uPlot(
      {
        width: Math.max(280, element.clientWidth),
        height: HEIGHT,
        series: [
          {},
          {
            label: "succeeded",
            stroke: "#15803d",
            width: 1,
            spanGaps: true,
            points: { show: true, size: 5, fill: "#15803d" },
          },
          {
            label: "failed",
            stroke: "#b91c1c",
            width: 2,
            paths: () => null,
            points: { show: true, size: 9, fill: "#fff", width: 2 },
          },
        ],
        axes: [{}, { label: "latency (ms)" }],
        scales: { y: { range: (_u, _min, max) => [0, Math.max(10, max * 1.2)] } },
      },
      [[], [], []],
      element,
    );
    const resize = () =>
      plot.current?.setSize({ width: Math.max(280, element.clientWidth), height: HEIGHT });
    addEventListener("resize", resize);
    return () => {
      removeEventListener("resize", resize);
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);
  useEffect(() => {
    plot.current?.setData(chartColumns(props.attempts) as uPlot.AlignedData);
  }, [props.attempts]);
  return (
    <figure class="chart attempts-chart">
      <figcaption>Attempt latency: {summary(props.attempts)}</figcaption>
      <div ref={box} aria-hidden="true" />
    </figure>
  );
}
