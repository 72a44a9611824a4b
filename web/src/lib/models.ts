/** Human names for the models, shown on every row so people see which model made it. */
export const MODEL_LABELS: Record<string, string> = {
  hybrid: "Hybrid",
  bert4rec: "BERT4Rec",
  sasrec: "SASRec",
  two_tower: "Two-Tower",
  popularity: "Popularity",
  ease: "EASE",
  content: "Content (MiniLM)",
  collaborative: "Collaborative",
};

/** The label of a model name, or the name itself when it is not one we know. */
export function modelLabel(name: string): string {
  return MODEL_LABELS[name] ?? name;
}

/** The label of an experiment variant: a model ("ease": the version it serves), a model at a retrained version
 * ("ease@v20261130-081502") or the one arm of an interleaving experiment ("interleaved"). */
export function variantLabel(variant: string): string {
  if (variant === "interleaved") return "Both, interleaved";
  const [name = variant, version] = variant.split("@");
  return version ? `${modelLabel(name)} @ ${version}` : modelLabel(name);
}

/** What each model is good at, in a sentence for someone who likes films (the Models page; its numbers are a click
 * away). A model without one is listed by its name alone. */
export const MODEL_SUMMARIES: Record<string, string> = {
  hybrid:
    "Blends the other models, trusting each as far as it guessed well which films people went on to love. Your top picks come from it.",
  sasrec:
    "Reads your ratings in the order you made them and guesses what you will want next, so your latest films count most.",
  bert4rec: "Looks at your whole history at once, old favourites and new, for films that fit all of it.",
  two_tower:
    "Puts you and every film on one map of taste: films near you, and near the films you liked, are the ones it suggests.",
  ease: "Finds films that the same people tend to rate together. Simple and fast, and hard to beat.",
  popularity: "The films most people have rated. It knows nothing about you: it is the yardstick the others must beat.",
};
