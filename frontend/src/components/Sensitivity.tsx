// A dataset's sensitivity level as a small coloured tag.
export function Sensitivity({ value }: { value: string }) {
  return <span className={`sensitivity sensitivity-${value}`}>{value}</span>;
}
