export { PipelineSampler, type PipelineStage, type StageRate, type PipelineRates, type PipelineSamplerOptions } from './pipeline-sampler.js';
