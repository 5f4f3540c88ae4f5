import { AiProviderError, type AiProvider, type ChatProvider } from '../ai/provider.ts';

// What the worker does with each kind of paid request: the input it reads, how the provider
// answers it, and the columns and final status it writes. The database's transition rules
// (private.status_transitions) decide which moves are allowed; this only chooses them.

/** The local provider's text analysis (src/ai/local.ts), as the worker uses it. */
export interface TextAnalyzer {
  readonly analysisModel: string;
  analyzeText(kind: LocalAnalysisType, text: string): Promise<{ result: Record<string, unknown>; confidence: number }>;
}

export const LOCAL_ANALYSIS_TYPES = ['TEXT_ANALYSIS', 'SENTIMENT_ANALYSIS', 'SEO_ANALYSIS'] as const;
export type LocalAnalysisType = (typeof LOCAL_ANALYSIS_TYPES)[number];

/** What the worker's provider offers: embeddings always; chat (a remote model) or local text analysis. */
export type WorkerProvider = AiProvider & Partial<TextAnalyzer>;

/** A finished request: the columns to write and the status it ends in. */
export interface Outcome {
  status: string;
  columns: Record<string, unknown>;
}

export interface RequestTable {
  /** The text the provider works from, read from the row (as JSON, so every column type reads alike). */
  input(row: Record<string, unknown>): string;
  run(provider: WorkerProvider, row: Record<string, unknown>): Promise<Outcome>;
  /** Where a failure's reason is written. */
  failure(reason: string, row: Record<string, unknown>): Record<string, unknown>;
}

const NEEDS_CHAT =
  'set AI_PROVIDER=openai with AI_BASE_URL and CHAT_MODEL (any OpenAI-compatible service: OpenAI, Ollama, vLLM)';

function chatOf(provider: WorkerProvider, what: string): ChatProvider {
  if (!provider.chat) {
    throw new AiProviderError(`the ${provider.name} provider cannot ${what}: ${NEEDS_CHAT}`, false);
  }
  return provider as ChatProvider;
}

/** A chat answer that must be one JSON object; models sometimes fence it in ```json. */
export function parseJsonObject(text: string): Record<string, unknown> {
  const unfenced = text.trim().replace(/^```(?:json)?\s*/i, '').replace(/\s*```$/, '');
  let value: unknown;
  try {
    value = JSON.parse(unfenced);
  } catch {
    throw new AiProviderError('the model did not answer a JSON object', true);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AiProviderError('the model did not answer a JSON object', true);
  }
  return value as Record<string, unknown>;
}

const confidenceOf = (value: unknown) =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1 ? value : null;

const INPUT_LIMIT = 20_000;

const analyses: RequestTable = {
  input: (row) => String(row.input ?? ''),
  async run(provider, row) {
    const type = String(row.type);
    const text = this.input(row);
    if (provider.analyzeText && provider.analysisModel && !provider.chat) {
      if (!(LOCAL_ANALYSIS_TYPES as readonly string[]).includes(type)) {
        throw new AiProviderError(
          `the local provider analyses text (${LOCAL_ANALYSIS_TYPES.join(', ')}), not ${type}: ${NEEDS_CHAT}`,
          false,
        );
      }
      const { result, confidence } = await provider.analyzeText(type as LocalAnalysisType, text);
      return { status: 'COMPLETED', columns: { result, confidence, model: provider.analysisModel } };
    }
    const chat = chatOf(provider, `run a ${type}`);
    const answer = await chat.chat(
      `You perform a ${type.toLowerCase().replaceAll('_', ' ')} of the user's input. Answer with one JSON object: ` +
        '{"summary": string, "findings": [string], "details": object, "confidence": number from 0 to 1}.',
      text.slice(0, INPUT_LIMIT),
    );
    const result = parseJsonObject(answer.text);
    return { status: 'COMPLETED', columns: { result, confidence: confidenceOf(result.confidence), model: answer.model } };
  },
  failure: (reason) => ({ result: { error: reason } }),
};

const contentGenerations: RequestTable = {
  input: (row) => String(row.prompt ?? ''),
  async run(provider, row) {
    const chat = chatOf(provider, 'generate content');
    const kind = String(row.type);
    if (kind === 'IMAGE') throw new AiProviderError('image generation needs an image model, which no provider here offers', false);
    const answer = await chat.chat(
      kind === 'CODE' ? 'You write code for the request. Answer with the code only.' : 'You write the text the request asks for.',
      this.input(row).slice(0, INPUT_LIMIT),
    );
    return { status: 'COMPLETED', columns: { output: answer.text, model: answer.model } };
  },
  failure: (reason, row) => ({ metadata: { ...(row.metadata as object), error: reason } }),
};

/** A business solution: its request columns in, its result columns out, one JSON answer. */
function businessSolution(name: string, inputs: string[], outputs: string[], done = 'COMPLETED'): RequestTable {
  return {
    input: (row) => JSON.stringify(Object.fromEntries(inputs.filter((column) => row[column] != null).map((column) => [column, row[column]]))),
    async run(provider, row) {
      const chat = chatOf(provider, `run a ${name}`);
      const answer = await chat.chat(
        `You prepare a ${name}. The user's message is the request as JSON. Answer with one JSON object with the keys ` +
          `${outputs.map((key) => `"${key}"`).join(', ')} (each an object or a list) and "confidence" (a number from 0 to 1).`,
        this.input(row).slice(0, INPUT_LIMIT),
      );
      const answerObject = parseJsonObject(answer.text);
      const columns: Record<string, unknown> = Object.fromEntries(outputs.map((key) => [key, answerObject[key] ?? null]));
      columns.confidence = confidenceOf(answerObject.confidence);
      return { status: done, columns };
    },
    failure: (reason, row) => ({ metadata: { ...(row.metadata as object), error: reason } }),
  };
}

export const REQUEST_TABLES: Record<string, RequestTable> = {
  analyses,
  content_generations: contentGenerations,
  contract_analyses: businessSolution(
    'contract analysis',
    ['contract_title', 'contract_type', 'extracted_text'],
    ['risk_assessment', 'clauses', 'plain_language', 'compliance_check', 'recommendations'],
  ),
  localization_analyses: businessSolution(
    'product localization analysis',
    ['product_name', 'target_market', 'product_description'],
    ['cultural_analysis', 'visual_adaptation', 'market_strategy', 'compliance_check', 'competitor_analysis'],
  ),
  customer_behavior_analyses: businessSolution(
    'customer behavior analysis',
    ['customer_segment', 'data_source'],
    ['behavior_prediction', 'sentiment_analysis', 'journey_mapping', 'recommendations'],
  ),
  compliance_monitoring: businessSolution(
    'compliance review',
    ['business_type', 'jurisdiction', 'regulations'],
    ['risk_assessment', 'document_reviews', 'action_plan', 'audit_preparation', 'training_materials'],
  ),
  // A generated path is then followed by the learner: it moves on to IN_PROGRESS, not COMPLETED.
  learning_paths: businessSolution(
    'personal learning path',
    ['user_profile', 'skill_assessment', 'learning_style'],
    ['generated_path', 'recommendations', 'certifications'],
    'IN_PROGRESS',
  ),
};
