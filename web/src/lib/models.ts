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
