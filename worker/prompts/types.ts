/** A managed prompt, compiled for one call: what it puts before the caller's messages, and its model and settings. */
export interface PromptMessage {
  role: string;
  content: unknown;
  [field: string]: unknown;
}

export interface CompiledPrompt {
  messages: PromptMessage[];
  /** The model group the prompt names, if any. */
  model?: string;
  params: Record<string, unknown>;
}
