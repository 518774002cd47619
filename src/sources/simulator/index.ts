export { Simulator, type SimulatorOptions, type SimulatorInstrument, type SessionPhase, type SessionPhaseFn } from './simulator.js';
export { defaultUniverse, type SimulatedInstrument } from './universe.js';
export { tickSize, roundToTick, tickUp, isOnTick, type TickRounding } from './tick-size.js';
export { intradayIntensity, SYNTHETIC_DAY_MS } from './intraday.js';
export { Prng } from './prng.js';
export { measureSimulatorRate, type SimulatorRate } from './measure-rate.js';
