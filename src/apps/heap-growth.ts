import v8 from 'node:v8';

/**
 * Sets how far V8 lets the old generation grow past its live size before the next full
 * (mark-compact) GC: `--heap-growing-percent`, read whenever V8 recomputes its heap limits, so it
 * takes effect when set at run time. It is process-wide: the platform owns its process.
 *
 * Why: V8 picks the factor itself from how fast the old generation fills, and the pipeline keeps
 * its promotion low (short-lived batches; see StreamHub#runFlushPass). With little promotion V8
 * chose its minimum factor, 1.1, and ran a full GC every ~2 s over a ~45 MB live heap. Each
 * one's incremental marking steps (up to 8 ms) and final pause (3-5 ms) then made the latency
 * tail: at 20,000 ticks/s the p99 from hand-over to WebSocket frame read 10-17 ms in 20 s runs,
 * against 3.8-5.7 ms with 200 % (a factor of 3, inside V8's own 1.1-4 range), where one full GC
 * came every ~10 s. The memory cost is garbage held longer in the old generation between GCs.
 */
export function setHeapGrowingPercent(percent: number): void {
  // Set even when 0: that is V8's own default ("decide dynamically"), so a platform started with 0
  // undoes an earlier one's setting in the same process.
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}
