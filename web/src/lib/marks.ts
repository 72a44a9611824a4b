/** Marking a film (rate, like, dislike, watched, not interested) with a message that offers Undo.
 *
 * Undo restores the state before the action: what it needs is the mark as it was (the film page has it) or, for a
 * toggle made from a card, only which way it went. */
import { useSendFeedback, type FeedbackChange } from "../api/queries";
import type { FeedbackKind, MovieMark } from "../api/types";
import { useToast } from "../components/Toasts";
import { formatStars } from "./format";

export interface MarkAction {
  userId: number;
  movieId: number;
  title: string;
  kind: FeedbackKind;
  /** The rating, for kind "rating". */
  value?: number | null;
  /** Take the mark back (clear the rating, un-like, ...). */
  remove?: boolean;
  impressionId?: string | null;
  /** The film's marks before this action, when known: Undo then restores a replaced rating or a cleared dislike. */
  before?: MovieMark | undefined;
}

/** What the message says after an action (people read it; a screen reader announces it). */
export function describeMark({ kind, value, remove, title }: Pick<MarkAction, "kind" | "value" | "remove" | "title">): string {
  switch (kind) {
    case "rating":
      return remove ? `Your rating of ${title} is cleared.` : `You rated ${title} ${formatStars(value ?? 0)}.`;
    case "like":
      return remove ? `${title} is no longer in your likes.` : `You like ${title}. We will show more like it.`;
    case "dislike":
      return remove ? `${title} is no longer marked as disliked.` : `You dislike ${title}. We will show fewer like it.`;
    case "watched":
      return remove ? `${title} is no longer marked as watched.` : `${title} is marked as watched.`;
    case "dismiss":
      return remove ? `${title} can be recommended again.` : `${title} will not be recommended again.`;
  }
}

/** The changes that put the marks back as they were before `action`. */
export function undoChanges(action: MarkAction): FeedbackChange[] {
  const base = { user_id: action.userId, movie_id: action.movieId, impression_id: null };
  const before = action.before;
  if (action.kind === "rating") {
    // An earlier app rating comes back; a data-set rating comes back by itself once the app rating is cleared.
    const previous = before?.rating_source === "app" ? (before.rating ?? null) : null;
    return previous === null
      ? [{ ...base, kind: "rating", value: null, remove: true }]
      : [{ ...base, kind: "rating", value: previous }];
  }
  const changes: FeedbackChange[] = [{ ...base, kind: action.kind, value: null, remove: !action.remove }];
  // A like replaced a dislike (or the reverse): undoing it brings the replaced mark back.
  if (!action.remove && action.kind === "like" && before?.disliked) changes.push({ ...base, kind: "dislike", value: null });
  if (!action.remove && action.kind === "dislike" && before?.liked) changes.push({ ...base, kind: "like", value: null });
  return changes;
}

interface MarkCallbacks {
  /** The undo was sent (e.g. show a hidden card again). */
  onUndone?: () => void;
  /** The mark was not saved; the screen shows the mutation's error. */
  onError?: () => void;
}

/** Send a mark and say so in a message with Undo. Errors show on the screen that made the action (the mutation's
 * error). */
export function useMark() {
  const send = useSendFeedback();
  const notify = useToast();
  const mark = (action: MarkAction, { onUndone, onError }: MarkCallbacks = {}) => {
    send.mutate(
      {
        user_id: action.userId,
        movie_id: action.movieId,
        kind: action.kind,
        value: action.value ?? null,
        remove: action.remove ?? false,
        impression_id: action.impressionId ?? null,
      },
      {
        onError,
        onSuccess: () => {
          notify(describeMark(action), () => {
            const undo = async () => {
              for (const change of undoChanges(action)) await send.mutateAsync(change);
            };
            undo().then(
              () => {
                onUndone?.();
                notify("Undone.");
              },
              () => {
                notify("Could not undo. Try again from the film's page.");
              },
            );
          });
        },
      },
    );
  };
  return { mark, send };
}
