export { type RawRecord, type SourceSink, type Source } from './source.js';
export { SourceLifecycle, abortableSleep } from './source-lifecycle.js';
export {
  Simulator,
  defaultUniverse,
  measureSimulatorRate,
  tickSize,
  roundToTick,
  isOnTick,
  type SimulatorOptions,
  type SimulatorInstrument,
  type SimulatedInstrument,
  type SessionPhase,
  type SessionPhaseFn,
  type SimulatorRate,
} from './simulator/index.js';
export { ReplaySource, parseEventTime, type ReplaySourceOptions, type ReplayFormat, type ReplayClock } from './replay/index.js';
