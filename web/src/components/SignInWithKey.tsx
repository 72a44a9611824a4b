import { useId, useState, type SyntheticEvent } from "react";
import { useNavigate } from "react-router";

import { errorMessage } from "../api/errors";
import { signIn } from "../api/endpoints";
import { useSession } from "../lib/session";

/** Use a profile made in another browser: paste its key (Profile → Your profile key there), and this browser keeps
 * it as if it had made the profile. `lockedName`: the private profile the person just tried to use (the form opens
 * and says why it needs the key). */
export function SignInWithKey({ lockedName = null }: { lockedName?: string | null }) {
  const { setUserId } = useSession();
  const navigate = useNavigate();
  const inputId = useId();
  const [key, setKey] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) {
      setProblem("Paste your profile key first.");
      return;
    }
    setBusy(true);
    setProblem(null);
    signIn(trimmed).then(
      (profile) => {
        setUserId(profile.user_id, trimmed);
        void navigate("/");
      },
      (error: unknown) => {
        setBusy(false);
        setProblem(errorMessage(error));
      },
    );
  };
  return (
    <details
      className="rounded-lg border border-zinc-200 p-3 dark:border-zinc-800"
      data-testid="sign-in-with-key"
      open={lockedName !== null || undefined}
    >
      <summary className="min-h-11 cursor-pointer content-center text-sm font-medium">Use my profile key</summary>
      <form className="mt-2 space-y-2" onSubmit={submit}>
        {lockedName !== null ? (
          <p role="status" className="max-w-prose text-sm font-medium">
            {lockedName} is private to the browser that made it: paste its key to use it here.
          </p>
        ) : null}
        <p className="max-w-prose text-sm text-zinc-700 dark:text-zinc-300">
          Made a profile in another browser? Copy its key there (Profile → Your profile key) and paste it here to
          use the same profile in this browser.
        </p>
        <label htmlFor={inputId} className="block text-sm font-medium">
          Profile key
        </label>
        <div className="flex flex-wrap gap-2">
          <input
            id={inputId}
            // The person just asked to use a private profile: the key is what to type next.
            autoFocus={lockedName !== null}
            type="password"
            autoComplete="off"
            spellCheck={false}
            value={key}
            onChange={(event) => {
              setKey(event.target.value);
            }}
            className="min-h-11 w-full max-w-sm rounded-md border border-zinc-300 bg-white px-3 font-mono text-sm dark:border-zinc-700 dark:bg-zinc-900"
          />
          <button
            type="submit"
            disabled={busy}
            className="min-h-11 rounded-md bg-violet-700 px-4 text-sm font-medium text-white hover:bg-violet-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-violet-700 disabled:opacity-60"
          >
            {busy ? "Checking…" : "Use this profile"}
          </button>
        </div>
        {problem ? (
          <p role="status" className="text-sm text-amber-900 dark:text-amber-200">
            {problem}
          </p>
        ) : null}
      </form>
    </details>
  );
}
