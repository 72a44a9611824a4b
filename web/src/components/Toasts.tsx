import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from "react";

/** How long a message stays (an Undo is offered for as long): long enough to read and react, short enough not to
 * pile up. Hovering or focusing it keeps it. */
const VISIBLE_MS = 7000;

interface Toast {
  id: number;
  message: string;
  undo?: (() => void) | undefined;
}

type Notify = (message: string, undo?: () => void) => void;

const ToastContext = createContext<Notify | null>(null);

function ToastItem({ toast, onClose: closeById }: { toast: Toast; onClose: (id: number) => void }) {
  const [held, setHeld] = useState(false);
  const onClose = useCallback(() => {
    closeById(toast.id);
  }, [closeById, toast.id]);
  useEffect(() => {
    if (held) return undefined;
    const timer = window.setTimeout(onClose, VISIBLE_MS);
    return () => {
      window.clearTimeout(timer);
    };
  }, [held, onClose]);
  return (
    <li
      className="pointer-events-auto flex items-center gap-3 rounded-lg bg-zinc-900 px-4 py-3 text-sm text-white shadow-lg dark:bg-zinc-100 dark:text-zinc-900"
      data-testid="toast"
      onMouseEnter={() => {
        setHeld(true);
      }}
      onMouseLeave={() => {
        setHeld(false);
      }}
      onFocus={() => {
        setHeld(true);
      }}
      onBlur={() => {
        setHeld(false);
      }}
    >
      <span className="min-w-0 flex-1">{toast.message}</span>
      {toast.undo ? (
        <button
          type="button"
          className="min-h-11 rounded-md px-3 font-semibold text-violet-300 underline-offset-2 hover:underline focus-visible:outline-2 focus-visible:outline-violet-400 dark:text-violet-700"
          onClick={() => {
            toast.undo?.();
            onClose();
          }}
        >
          Undo
        </button>
      ) : null}
      <button
        type="button"
        aria-label="Close message"
        className="flex min-h-11 min-w-11 items-center justify-center rounded-md text-zinc-300 hover:text-white focus-visible:outline-2 focus-visible:outline-violet-400 dark:text-zinc-600 dark:hover:text-zinc-900"
        onClick={onClose}
      >
        <span aria-hidden="true">✕</span>
      </button>
    </li>
  );
}

/** Short messages at the bottom of the screen, each with an Undo when the action can be taken back. The region is
 * a polite live region: screen readers read each message without moving focus. */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);
  const notify = useCallback<Notify>((message, undo) => {
    const id = nextId.current++;
    // One message at a time: an older one's Undo could contradict what was done since (like, then dislike).
    setToasts([{ id, message, undo }]);
  }, []);
  const close = useCallback((id: number) => {
    setToasts((before) => before.filter((t) => t.id !== id));
  }, []);
  return (
    <ToastContext value={notify}>
      {children}
      <ol
        aria-live="polite"
        aria-label="Messages"
        className="pointer-events-none fixed inset-x-0 bottom-0 z-50 mx-auto flex max-w-md flex-col gap-2 p-4"
      >
        {toasts.map((toast) => (
          <ToastItem key={toast.id} toast={toast} onClose={close} />
        ))}
      </ol>
    </ToastContext>
  );
}

/** Show a message, optionally with Undo; must be used inside ToastProvider. */
// eslint-disable-next-line react-refresh/only-export-components -- the hook belongs with its provider
export function useToast(): Notify {
  const notify = useContext(ToastContext);
  if (!notify) throw new Error("useToast must be used inside <ToastProvider>");
  return notify;
}
