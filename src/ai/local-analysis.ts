import type { ItemEntity, ItemSentence, ItemToken, ItsFunction, ReadabilityStats, WinkMethods } from 'wink-nlp';
import { AiProviderError } from './provider.ts';

// The local provider's text analyses (src/ai/local.ts): wink-nlp with its English model,
// loaded on first use. Apart from the word vectors, which only embeddings need.

/** Longest prefix of a text that analyzeText reads. */
const MAX_ANALYZED_CHARACTERS = 20_000;

export type LocalAnalysisKind = 'TEXT_ANALYSIS' | 'SENTIMENT_ANALYSIS' | 'SEO_ANALYSIS';

export interface LocalAnalysis {
  result: Record<string, unknown>;
  /**
   * Share of the analysed text's word tokens (wink's `its.type === 'word'`) that wink-eng-lite-web-model's
   * lexicon knows (not out-of-vocabulary by their normal form or lemma), rounded to 3 decimals; 0 without words.
   */
  confidence: number;
}

let nlpLoading: Promise<WinkMethods> | undefined;

function nlp(): Promise<WinkMethods> {
  nlpLoading ??= Promise.all([import('wink-nlp'), import('wink-eng-lite-web-model')])
    .then(([{ default: winkNLP }, { default: model }]) => winkNLP(model))
    .catch((error: unknown) => {
      nlpLoading = undefined;
      throw new AiProviderError('local analysis: wink-nlp cannot be loaded', false, { cause: error });
    });
  return nlpLoading;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));
const sentimentLabel = (score: number) => (score > 0.05 ? 'positive' : score < -0.05 ? 'negative' : 'neutral');

/** The first MAX_ANALYZED_CHARACTERS of a text, cut at a space when one is near. */
function analysedPart(text: string): { text: string; truncated: boolean } {
  if (text.length <= MAX_ANALYZED_CHARACTERS) return { text, truncated: false };
  let cut = text.slice(0, MAX_ANALYZED_CHARACTERS);
  const space = cut.search(/\s\S*$/);
  if (space > MAX_ANALYZED_CHARACTERS - 200) cut = cut.slice(0, space);
  else if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return { text: cut, truncated: true };
}

function readabilityOf(stats: ReadabilityStats) {
  const hasWords = stats.numOfWords > 0;
  return {
    // wink-eng-lite-web-model gives no fog index; complexWords counts distinct words of 4+ syllables.
    fleschReadingEase: hasWords && Number.isFinite(stats.fres) ? stats.fres : null,
    readingTimeSeconds: hasWords ? stats.readingTimeMins * 60 + stats.readingTimeSecs : 0,
    words: stats.numOfWords,
    sentences: hasWords ? stats.numOfSentences : 0, // wink counts one sentence in an empty text
    complexWords: stats.numOfComplexWords,
  };
}

/**
 * Sentiment (SENTIMENT_ANALYSIS), sentiment, keywords, entities and readability (TEXT_ANALYSIS),
 * or counts, keyword density and findings (SEO_ANALYSIS) of the first 20,000 characters of a text.
 */
export async function analyzeText(kind: LocalAnalysisKind, text: string): Promise<LocalAnalysis> {
  if (kind !== 'TEXT_ANALYSIS' && kind !== 'SENTIMENT_ANALYSIS' && kind !== 'SEO_ANALYSIS') {
    throw new AiProviderError(`local analysis: unknown kind ${String(kind)}`, false);
  }
  const winkNlp = await nlp();
  const its = winkNlp.its;
  const part = analysedPart(text);
  try {
    const doc = winkNlp.readDoc(part.text);

    let wordTokens = 0;
    let known = 0;
    const counts = new Map<string, number>();
    doc.tokens().each((token: ItemToken) => {
      if (token.out(its.type) !== 'word') return;
      wordTokens++;
      const normal = token.out(its.normal);
      const lemma = token.out(its.lemma as ItsFunction<string>); // wink-nlp's types do not match its own lemma helper
      if (!doc.isOOV(normal) || !doc.isOOV(lemma)) known++;
      if (!token.out(its.stopWordFlag) && /\p{L}/u.test(lemma)) counts.set(lemma, (counts.get(lemma) ?? 0) + 1);
    });
    const confidence = wordTokens === 0 ? 0 : round(known / wordTokens, 3);
    const keywords = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 10);
    const sentiment = round(Number(doc.out(its.sentiment)) || 0, 3);
    const stats = doc.out(its.readabilityStats) as ReadabilityStats;
    const readability = readabilityOf(stats);

    if (kind === 'SENTIMENT_ANALYSIS') {
      const sentences = doc.sentences();
      const sentenceCount = part.text.trim() ? sentences.length() : 0;
      const perSentence: { text: string; sentiment: number }[] = [];
      for (let i = 0; i < Math.min(50, sentenceCount); i++) {
        const sentence = sentences.itemAt(i);
        perSentence.push({ text: sentence.out().slice(0, 200), sentiment: round(Number(sentence.out(its.sentiment)) || 0, 3) });
      }
      return {
        result: { sentiment, label: sentimentLabel(sentiment), sentenceCount, sentences: perSentence, truncated: part.truncated },
        confidence,
      };
    }

    if (kind === 'TEXT_ANALYSIS') {
      const entities: { type: string; value: string }[] = [];
      const seen = new Set<string>();
      doc.entities().each((entity: ItemEntity) => {
        const { type, value } = entity.out(its.detail) as { type: string; value: string };
        const key = `${type}\u0000${value}`;
        if (entities.length >= 50 || seen.has(key)) return;
        seen.add(key);
        entities.push({ type, value });
      });
      return {
        result: {
          sentiment,
          label: sentimentLabel(sentiment),
          keywords: keywords.map(([term, count]) => ({ term, count })),
          entities,
          readability,
          language: 'en',
          truncated: part.truncated,
        },
        confidence,
      };
    }

    // SEO_ANALYSIS: findings follow only from the numbers measured here.
    const words = stats.numOfWords;
    const sentenceCount = readability.sentences;
    const averageSentenceLength = words > 0 && sentenceCount > 0 ? round(words / sentenceCount, 1) : 0;
    let longestSentence = 0;
    doc.sentences().each((sentence: ItemSentence) => {
      let length = 0;
      sentence.tokens().each((token: ItemToken) => {
        if (token.out(its.type) === 'word') length++;
      });
      longestSentence = Math.max(longestSentence, length);
    });
    const seoKeywords = keywords.map(([term, count]) => ({ term, count, density: words > 0 ? round(count / words, 4) : 0 }));
    const findings: string[] = [];
    if (words === 0) findings.push('no words found');
    else {
      if (words < 300) findings.push(`${words} words: below 300, little text for a search engine to rank`);
      if (averageSentenceLength > 20) findings.push(`average sentence length ${averageSentenceLength} words: above 20, split long sentences`);
      if (longestSentence > 35) findings.push(`longest sentence ${longestSentence} words: above 35, split it`);
      const ease = readability.fleschReadingEase;
      if (ease !== null) {
        if (ease < 30) findings.push(`Flesch reading ease ${ease}: very hard to read`);
        else if (ease < 50) findings.push(`Flesch reading ease ${ease}: hard to read`);
        else if (ease < 60) findings.push(`Flesch reading ease ${ease}: fairly hard to read`);
      }
      const top = seoKeywords[0];
      if (!top || top.count < 2) findings.push('no keyword repeats: the text has no clear focus keyword');
      for (const keyword of seoKeywords) {
        if (keyword.count >= 3 && keyword.density > 0.03) findings.push(`keyword "${keyword.term}" density ${round(keyword.density * 100, 1)}%: above 3%, may read as keyword stuffing`);
      }
    }
    return {
      result: {
        wordCount: words,
        sentenceCount,
        averageSentenceLength,
        longestSentence,
        readability,
        keywords: seoKeywords,
        findings,
        truncated: part.truncated,
      },
      confidence,
    };
  } catch (error) {
    throw new AiProviderError(`local analysis: ${(error as Error).message}`, false, { cause: error });
  }
}
