/** One measured figure, with what it should be read against. */
export type BenchRow = { figure: string; value: number; unit: string; comparedTo: string };
