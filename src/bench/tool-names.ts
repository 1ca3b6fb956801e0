/** The tools the benchmarks compare (apart from tools.ts, which drives them, so that modules tools.ts uses can name them). */
export type ToolName = 'envd' | 'direnv' | 'mise';
export const TOOLS: readonly ToolName[] = ['envd', 'direnv', 'mise'];
