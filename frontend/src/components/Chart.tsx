// uPlot in React: the plot is made once per options object and given new data in place.
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/** A uPlot chart sized to its container's width. */
export function Chart({
  options,
  data,
  label,
  testId,
}: {
  options: Omit<uPlot.Options, "width">;
  data: uPlot.AlignedData;
  label: string;
  testId?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    if (!box.current) return;
    const width = Math.max(320, box.current.clientWidth || 640);
    plot.current = new uPlot({ ...options, width } as uPlot.Options, data, box.current);
    const resize = new ResizeObserver(() => {
      const w = box.current?.clientWidth;
      if (w && plot.current && Math.abs(w - plot.current.width) > 2) {
        plot.current.setSize({ width: w, height: options.height });
      }
    });
    resize.observe(box.current);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // A new options object makes a new plot; data changes are applied below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [options]);
  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);
  return <div className="chart" ref={box} role="img" aria-label={label} data-testid={testId} />;
}
