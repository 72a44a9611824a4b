import { Link } from "react-router";

/** Why this profile cannot rate here (e.g. a demo profile outside demo mode), with the way out. */
export function ReadOnlyNote({ reason, className = "" }: { reason: string; className?: string }) {
  return (
    <p className={`text-sm text-zinc-600 dark:text-zinc-400 ${className}`} data-testid="read-only-profile">
      {reason}{" "}
      <Link to="/onboarding" className="underline underline-offset-2">
        Start your own profile
      </Link>
    </p>
  );
}
