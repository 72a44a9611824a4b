import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";

/** Who the app is recommending for: a MovieLens user or one created in the app, kept across reloads. */
interface Session {
  userId: number | null;
  setUserId: (userId: number | null) => void;
}

const STORAGE_KEY = "movie-genie.user";
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

/** Provides the current user to the whole app. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [userId, setState] = useState<number | null>(readStoredUser);
  const setUserId = useCallback((next: number | null) => {
    setState(next);
    try {
      if (next === null) window.localStorage.removeItem(STORAGE_KEY);
      else window.localStorage.setItem(STORAGE_KEY, String(next));
    } catch {
      /* storage disabled: keep the in-memory value */
    }
  }, []);
  const value = useMemo(() => ({ userId, setUserId }), [userId, setUserId]);
  return <SessionContext value={value}>{children}</SessionContext>;
}

/** The current user and a setter; must be used inside SessionProvider. */
// eslint-disable-next-line react-refresh/only-export-components -- the hook belongs with its provider
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession must be used inside <SessionProvider>");
  return session;
}
