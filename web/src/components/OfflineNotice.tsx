import { offlineNotice } from "../lib/offline";
import { useOfflineState } from "../lib/offlineStatus";

/** A line across the top while the device is offline or the rows are a kept copy: how old they are, and that
 * changes cannot be saved until the connection is back. */
export function OfflineNotice() {
  const { online, savedAt } = useOfflineState();
  const text = offlineNotice(online, savedAt);
  if (text === null) return null;
  return (
    <div
      role="status"
      data-testid="offline-notice"
      className="border-b border-amber-300 bg-amber-50 px-4 py-2 text-sm text-amber-950 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100"
    >
      <p className="mx-auto max-w-7xl">{text}</p>
    </div>
  );
}
