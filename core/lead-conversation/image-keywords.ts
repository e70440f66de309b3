// Which of a bot's images a message asks for, by their keywords. Pure and bounded: a word and a
// keyword match when they are equal once folded (case, accents) or when one is a simple
// Portuguese/English plural of the other ("cadeiras" ~ "Cadeira", "limões" ~ "limão", "boxes" ~ "box").
// A keyword of several words matches those words in a row.

const MAX_SCAN = 4_000;
// Stems shorter than this are not plurals worth matching ("as" is not the plural of "a").
const MIN_STEM = 3;

/** Lower case without accents: "Cadeiras Ã" -> "cadeiras a". */
export const foldText = (text: string): string => text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

const wordsOf = (text: string): string[] => foldText(text).split(/[^\p{L}\p{N}]+/u).filter((word) => word !== '');

// Plural endings, folded, and their singulars: limões -> limão, animais -> animal, papéis -> papel,
// jardins -> jardim, luzes -> luz, berries -> berry, casas -> casa.
const PLURALS: readonly (readonly [string, string])[] = [
  ['oes', 'ao'], ['aes', 'ao'], ['ais', 'al'], ['eis', 'el'], ['ois', 'ol'], ['uis', 'ul'], ['ns', 'm'], ['ies', 'y'], ['es', ''], ['s', ''],
];

/** A folded word and the singulars it may be the plural of. */
export const singularForms = (word: string): ReadonlySet<string> => {
  const forms = new Set([word]);
  for (const [plural, singular] of PLURALS) {
    if (word.endsWith(plural) && word.length - plural.length >= MIN_STEM) forms.add(word.slice(0, -plural.length) + singular);
  }
  return forms;
};

const sameWord = (a: ReadonlySet<string>, b: ReadonlySet<string>) => [...a].some((form) => b.has(form));

export type KeywordImage = { readonly id: string; readonly keywords: readonly string[] };

/** The ids of the images one of whose keywords the message mentions, in the images' order. */
export const imagesMentioned = (text: string, images: readonly KeywordImage[]): string[] => {
  const words = wordsOf(text.slice(0, MAX_SCAN)).map(singularForms);
  // Every form the message holds: most keywords are rejected by one look-up.
  const anyWord = new Set(words.flatMap((forms) => [...forms]));
  const mentions = (keyword: string) => {
    const parts = wordsOf(keyword).map(singularForms);
    if (parts.length === 0 || !parts.every((part) => [...part].some((form) => anyWord.has(form)))) return false;
    for (let start = 0; start + parts.length <= words.length; start += 1) {
      if (parts.every((part, i) => sameWord(part, words[start + i]!))) return true;
    }
    return false;
  };
  return images.filter((image) => image.keywords.some(mentions)).map((image) => image.id);
};
