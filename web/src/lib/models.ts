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
