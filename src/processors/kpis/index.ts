export { KpiOperator, type KpiOperatorOptions, type KpiState } from './kpi-operator.js';
