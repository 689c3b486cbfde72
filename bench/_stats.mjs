// Small helpers shared by the benches: repeated rounds, min/median/max, and the clock.
export function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return {
    min: sorted[0],
    median: sorted[Math.floor(sorted.length / 2)],
    max: sorted[sorted.length - 1],
    runs: sorted.length,
    // Each round's figure, in round order: targets.mjs pairs contenders that alternated within a round.
    perRound: values.map((v) => round(v, 3)),
  }
}

export const round = (n, digits = 2) => Number(n.toFixed(digits))

/**
 * The in-process clock: CPU time of this process (user + system), in µs. Time the process spends
 * descheduled is not counted, so other work on a shared machine inflates figures far less than
 * it does wall-clock time (which spread the same contender over 10× between rounds).
 */
export function cpuMicros() {
  const { user, system } = process.cpuUsage()
  return user + system
}
