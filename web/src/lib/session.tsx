import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";

import { setProfileSecret } from "../api/http";
import { useAccess } from "../api/queries";
import type { UserDetail } from "../api/types";

/** Who the app is recommending for: a MovieLens user or one created in the app, kept across reloads. */
interface Session {
  userId: number | null;
  /** The profile's bearer secret when this browser created it (MovieLens profiles have none). */
  secret: string | null;
  /** Switch profile; `secret` is given once, by onboarding, and kept beside the id for this profile. */
  setUserId: (userId: number | null, secret?: string) => void;
  /** Forget a deleted profile: its secret leaves this browser, and it stops being the current profile. */
  forget: (userId: number) => void;
}

const STORAGE_KEY = "movie-genie.user";
// Secrets of the profiles created in this browser, by user id (the server keeps only their hashes).
const SECRETS_KEY = "movie-genie.secrets";
const memorySecrets: Record<string, string> = {}; // when storage is disabled
const SessionContext = createContext<Session | null>(null);

function readStoredUser(): number | null {
  try {
    const raw = window.localStorage.getItem(STORAGE_KEY);
    const value = raw === null ? NaN : Number(raw);
    return Number.isInteger(value) && value > 0 ? value : null;
  } catch {
    return null; // storage disabled (private mode): the session lasts for this page only
  }
}

function readSecrets(): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(window.localStorage.getItem(SECRETS_KEY) ?? "{}");
    return parsed && typeof parsed === "object" ? { ...(parsed as Record<string, string>), ...memorySecrets } : memorySecrets;
  } catch {
    return { ...memorySecrets };
  }
}

function secretOf(userId: number | null): string | null {
  return userId === null ? null : (readSecrets()[String(userId)] ?? null);
}

function initialState(): { userId: number | null; secret: string | null } {
  const userId = readStoredUser();
  const secret = secretOf(userId);
  setProfileSecret(secret); // before the first request
  return { userId, secret };
}

/** Provides the current user (and their secret, which every API call then carries) to the whole app. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [{ userId, secret }, setState] = useState(initialState);
  const setUserId = useCallback((next: number | null, newSecret?: string) => {
    if (next !== null && newSecret) memorySecrets[String(next)] = newSecret;
    const current = secretOf(next);
    setProfileSecret(current);
    setState({ userId: next, secret: current });
    try {
      if (next === null) window.localStorage.removeItem(STORAGE_KEY);
      else window.localStorage.setItem(STORAGE_KEY, String(next));
      if (newSecret) window.localStorage.setItem(SECRETS_KEY, JSON.stringify(readSecrets()));
    } catch {
      /* storage disabled: keep the in-memory value */
    }
  }, []);
  const forget = useCallback(
    (gone: number) => {
      const key = String(gone);
      const rest = Object.fromEntries(Object.entries(readSecrets()).filter(([id]) => id !== key));
      Reflect.deleteProperty(memorySecrets, key);
      try {
        window.localStorage.setItem(SECRETS_KEY, JSON.stringify(rest));
      } catch {
        /* storage disabled: the in-memory copy is gone */
      }
      setUserId(null);
    },
    [setUserId],
  );
  const value = useMemo(() => ({ userId, secret, setUserId, forget }), [userId, secret, setUserId, forget]);
  return <SessionContext value={value}>{children}</SessionContext>;
}

/** Whether this browser holds the key of profile `userId` (made here, or opened here with its key). */
// eslint-disable-next-line react-refresh/only-export-components -- a reading of the session's storage
export function holdsKey(userId: number): boolean {
  return secretOf(userId) !== null;
}

/** The current user and a setter; must be used inside SessionProvider. */
// eslint-disable-next-line react-refresh/only-export-components -- the hook belongs with its provider
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession must be used inside <SessionProvider>");
  return session;
}

/** Whether the current session may rate as `user`, and if not, why (shown beside the disabled buttons). */
// eslint-disable-next-line react-refresh/only-export-components -- the hook belongs with its provider
export function useCanRate(user: Pick<UserDetail, "user_id" | "source"> | undefined): { allowed: boolean; reason: string | null } {
  const { secret } = useSession();
  const access = useAccess();
  // The secret is the current profile's own (onboarding in this browser); demo mode lets anyone write.
  if (secret || access.data?.demo_mode) return { allowed: true, reason: null };
  if (!access.data || !user) return { allowed: false, reason: null }; // not known yet
  return {
    allowed: false,
    reason:
      user.source === "movielens"
        ? "Profiles from the MovieLens data set cannot be changed on this server. Start your own profile to rate films."
        : "To rate as this profile here, use its key: copy it from the profile page in the browser where you made it, then choose “Use my profile key” when choosing a profile.",
  };
}
