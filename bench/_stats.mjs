// Small helpers shared by the benches: repeated rounds, min/median/max.
export function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return { min: sorted[0], median: sorted[Math.floor(sorted.length / 2)], max: sorted[sorted.length - 1], runs: sorted.length }
}

export const round = (n, digits = 2) => Number(n.toFixed(digits))
