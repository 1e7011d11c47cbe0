/**
 * Builders for the exact JSON OpenAI's and Azure OpenAI's APIs put on the
 * wire: the gateway's parsers are tested against these, so shapes follow real
 * responses (nulls, empty arrays), not SDK typings. Also the fake's echo rules
 * (token counts, vectors), exported so tests can compute expected values.
 * Re-exports the per-concern modules beside it, so importers keep this path.
 */

export { azureSafeFilterResults, chatUsage, fakeId, SYSTEM_FINGERPRINT, type FinishReason, type Flavor, type ToolCallInput } from './openai-format-common.ts';
export { openaiAudioChatCompletion, openaiChatChunks, openaiChatCompletion, type ChatChunksInput, type ChatCompletionInput } from './openai-chat-format.ts';
export { openaiTextCompletion, openaiTextCompletionChunks, type TextChunksInput, type TextCompletionInput } from './openai-text-completion-format.ts';
export { DEFAULT_EMBEDDING_DIMS, embeddingVector, encodeFloat32Base64, openaiEmbeddings, type EmbeddingsInput } from './openai-embeddings-format.ts';
export { azureContentFilterError, azureError, azureRateLimitError, openaiError, openaiInvalidApiKeyError, openaiRateLimitError } from './openai-error-format.ts';
export { chatPromptTokens, countWords, echoWords, messageText, piecesOf, words } from './openai-echo-rules.ts';
