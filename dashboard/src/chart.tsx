import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

const WINDOW_S = 180;

export interface Series {
  readonly label: string;
  readonly stroke: string;
}

/** A live line chart: `times` in seconds, one array per series; re-drawn on every change. */
export function RateChart(props: {
  title: string;
  series: readonly Series[];
  times: readonly number[];
  values: readonly (readonly number[])[];
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const element = box.current;
    if (element === null) return;
    const width = Math.max(280, element.clientWidth);
    plot.current = new uPlot(
      {
        width,
        height: 180,
        series: [{}, ...props.series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2 }))],
        axes: [{}, { label: "per second" }],
        // A fixed window ending now and a floor of 1/s: an idle router still shows axes,
        // not a range stretched over years from a single point.
        scales: {
          x: { time: true, range: () => [Date.now() / 1000 - WINDOW_S, Date.now() / 1000] },
          y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.2)] },
        },
      },
      [[], ...props.series.map(() => [])],
      element,
    );
    const resize = () =>
      plot.current?.setSize({ width: Math.max(280, element.clientWidth), height: 180 });
    addEventListener("resize", resize);
    return () => {
      removeEventListener("resize", resize);
      plot.current?.destroy();
      plot.current = null;
    };
  }, [props.title]);
  useEffect(() => {
    plot.current?.setData([
      [...props.times],
      ...props.values.map((v) => [...v]),
    ] as uPlot.AlignedData);
  }, [props.times, props.values]);
  const last = props.values.map((v) => v.at(-1) ?? 0);
  return (
    <figure class="chart">
      <figcaption>
        {props.title}:{" "}
        {props.series.map((s, i) => `${s.label} ${(last[i] ?? 0).toFixed(1)}/s`).join(", ")}
      </figcaption>
      <div ref={box} aria-hidden="true" />
    </figure>
  );
}
