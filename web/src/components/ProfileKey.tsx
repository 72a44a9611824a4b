import { useRef, useState } from "react";
import { useNavigate } from "react-router";

import { errorMessage } from "../api/errors";
import { deleteUser, downloadRatings } from "../api/endpoints";
import { useSession } from "../lib/session";
import { useToast } from "./Toasts";

const button =
  "min-h-11 rounded-md border border-zinc-300 px-4 text-sm font-medium hover:bg-zinc-100 focus-visible:outline-2 focus-visible:outline-violet-600 dark:border-zinc-700 dark:hover:bg-zinc-900";

/** Save a blob as a file through a temporary link (the browser's own download, no library). */
function saveFile(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.click();
  window.setTimeout(() => {
    URL.revokeObjectURL(url);
  }, 1000);
}

/** The profile's key (see, copy), how to use it elsewhere, its ratings as a file, and deleting it for good. Shown
 * to the profile's owner, in the browser that holds its key. */
export function ProfileKey({ userId, name }: { userId: number; name: string }) {
  const { secret, forget } = useSession();
  const notify = useToast();
  const navigate = useNavigate();
  const [shown, setShown] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const deleteButton = useRef<HTMLButtonElement>(null);
  if (!secret) return null;

  const copy = () => {
    navigator.clipboard.writeText(secret).then(
      () => {
        notify("Your profile key is copied. Keep it somewhere safe.");
      },
      () => {
        setShown(true);
        setProblem("This browser would not copy it: select the key and copy it by hand.");
      },
    );
  };
  const download = () => {
    setProblem(null);
    downloadRatings(userId).then(
      (blob) => {
        saveFile(blob, `movie-genie-ratings-${userId}.csv`);
      },
      (error: unknown) => {
        setProblem(`Your ratings could not be downloaded: ${errorMessage(error)}`);
      },
    );
  };
  const remove = () => {
    setBusy(true);
    setProblem(null);
    deleteUser(userId).then(
      () => {
        forget(userId);
        notify(`${name} and all its ratings are deleted.`);
        void navigate("/users");
      },
      (error: unknown) => {
        setBusy(false);
        setProblem(`The profile was not deleted: ${errorMessage(error)}`);
      },
    );
  };

  return (
    <section aria-labelledby="key-heading" className="space-y-3 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800" data-testid="profile-key">
      <h2 id="key-heading" className="text-lg font-semibold tracking-tight">
        Your profile key
      </h2>
      <p className="max-w-prose text-sm text-zinc-700 dark:text-zinc-300">
        This key is what lets you rate films as {name}; it works like a password and only this browser has it. Copy
        it to use your profile in another browser (choose &ldquo;Use my profile key&rdquo; there), and keep it private.
      </p>
      <div className="flex flex-wrap items-center gap-2">
        <code
          className="max-w-full overflow-x-auto rounded bg-zinc-100 px-2 py-2 font-mono text-sm break-all dark:bg-zinc-900"
          data-testid="profile-key-value"
        >
          {shown ? secret : "•".repeat(12) + secret.slice(-4)}
        </code>
        <button
          type="button"
          className={button}
          aria-pressed={shown}
          onClick={() => {
            setShown((v) => !v);
          }}
        >
          {shown ? "Hide key" : "Show key"}
        </button>
        <button type="button" className={button} onClick={copy}>
          Copy key
        </button>
      </div>
      <div className="flex flex-wrap gap-2 border-t border-zinc-200 pt-3 dark:border-zinc-800">
        <button type="button" className={button} onClick={download}>
          Download my ratings (CSV)
        </button>
        {confirming ? null : (
          <button
            type="button"
            ref={deleteButton}
            className={`${button} text-red-700 dark:text-red-400`}
            onClick={() => {
              setConfirming(true);
            }}
          >
            Delete this profile…
          </button>
        )}
      </div>
      {confirming ? (
        <div role="alertdialog" aria-labelledby="delete-question" className="space-y-2 rounded-md bg-red-50 p-3 dark:bg-red-950">
          <p id="delete-question" className="text-sm text-red-900 dark:text-red-100">
            Delete {name} and everything in it (ratings, likes, history)? This cannot be undone; download your ratings
            first if you want to keep them.
          </p>
          <div className="flex flex-wrap gap-2">
            <button
              type="button"
              disabled={busy}
              onClick={remove}
              className="min-h-11 rounded-md bg-red-700 px-4 text-sm font-medium text-white hover:bg-red-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-red-700 disabled:opacity-60"
            >
              {busy ? "Deleting…" : "Delete for good"}
            </button>
            <button
              type="button"
              className={button}
              // The question is asked: focus goes to the safe answer (Enter keeps the profile).
              autoFocus
              onClick={() => {
                setConfirming(false);
                // Back to where the person was, once the button is shown again.
                window.setTimeout(() => deleteButton.current?.focus(), 0);
              }}
            >
              Keep my profile
            </button>
          </div>
        </div>
      ) : null}
      {problem ? (
        <p role="status" className="text-sm text-amber-900 dark:text-amber-200">
          {problem}
        </p>
      ) : null}
    </section>
  );
}
