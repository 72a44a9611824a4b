/** Model names as people read them, from the server's model catalogue (GET /api/models `catalogue`, the API's
 * models/catalogue.py): the app keeps no list of models of its own, so a model added on the server is labelled
 * and described here without a change to the app. */
import { useModels } from "../api/queries";
import type { ModelCard } from "../api/types";

/** What the app reads of the catalogue: each model's label and summary. */
export interface ModelWords {
  /** The label of a model name ("two_tower" → "Two-Tower"); "" while the catalogue loads (a badge then waits rather
   * than flash the raw name), the name itself for one the catalogue lacks. */
  label: (name: string) => string;
  /** What a model is good at, in a sentence; null for a name the catalogue does not have. */
  summary: (name: string) => string | null;
  /** The label of an experiment variant: a model ("ease": the version it serves), a model at a retrained version
   * ("ease@v20261130-081502") or the one arm of an interleaving experiment ("interleaved"). */
  variant: (variant: string) => string;
}

export function modelWords(cards: readonly ModelCard[]): ModelWords {
  const byName = new Map(cards.map((card) => [card.name, card]));
  const label = (name: string) => byName.get(name)?.label ?? (cards.length === 0 ? "" : name);
  return {
    label,
    summary: (name) => byName.get(name)?.summary ?? null,
    variant: (variant) => {
      if (variant === "interleaved") return "Both, interleaved";
      const [name = variant, version] = variant.split("@");
      return version ? `${label(name)} @ ${version}` : label(name);
    },
  };
}

/** The catalogue's words, fetched once with the models (shared with the Models page's query). */
export function useModelWords(): ModelWords {
  const models = useModels();
  return modelWords(models.data?.catalogue ?? []);
}
