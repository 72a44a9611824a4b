/** The models dashboard's "Online experiments" panel: each experiment's online report (GET /api/experiments). */
import type { Estimate, InterleavingReport, OnlineReport } from "../api/types";
import { formatCI, percent, percentCI, points, pValue } from "../lib/format";
import { useModelWords } from "../lib/models";
import { EmptyState } from "./EmptyState";
import { ScrollRegion } from "./ScrollRegion";
import { TableHead } from "./TableHead";

const PILL = "inline-block rounded-full px-2 py-0.5 text-xs font-medium";
const DESIGN_LABELS: Record<OnlineReport["design"], string> = {
  ab: "A/B test",
  interleaving: "Interleaving (team draft)",
};

/** A figure over its 95% interval, as in the test metrics table. */
function EstimateCell({ estimate, kind }: { estimate: Estimate; kind: "share" | "mean" }) {
  const { value, low, high } = estimate;
  const shown = kind === "share" ? percent(value) : value == null ? "—" : value.toFixed(3);
  const interval = value == null ? "" : kind === "share" ? percentCI(estimate) : formatCI(low, high);
  return (
    <td className="py-1.5 pr-4 text-right tabular-nums">
      {shown}
      {interval ? <span className="block text-[10px] text-zinc-600 dark:text-zinc-400">{interval}</span> : null}
    </td>
  );
}

function VariantTable({ report }: { report: OnlineReport }) {
  const words = useModelWords();
  return (
    <ScrollRegion label="Variants table">
      <table className="w-full text-left text-sm" data-testid="variant-table">
        <caption className="sr-only">
          {report.experiment}: what users did with each variant&apos;s lists, with 95% intervals
        </caption>
        <TableHead
          columns={[
            { label: "Variant" },
            { label: "Impressions", numeric: true },
            { label: "Users", numeric: true },
            { label: "Clicks", numeric: true },
            { label: "CTR", numeric: true, title: "impressions with at least one click" },
            { label: "MRR", numeric: true, title: "mean of 1 / position of the first click (0: none)" },
            { label: "Rated after", numeric: true, title: "impressions after which a film of the list was rated" },
          ]}
        />
        <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
          {report.per_variant.map((v) => (
            <tr key={v.variant} data-testid="variant-row">
              <th scope="row" className="py-1.5 pr-4 font-medium">
                {words.variant(v.variant)}
              </th>
              <td className="py-1.5 pr-4 text-right tabular-nums">{v.impressions.toLocaleString()}</td>
              <td className="py-1.5 pr-4 text-right tabular-nums">{v.users.toLocaleString()}</td>
              <td className="py-1.5 pr-4 text-right tabular-nums">{v.clicks.toLocaleString()}</td>
              <EstimateCell estimate={v.ctr} kind="share" />
              <EstimateCell estimate={v.mrr} kind="mean" />
              <EstimateCell estimate={v.rating_rate} kind="share" />
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}

/** Interleaving's credit: wins per ranker, ties, impressions without a click, the first ranker's share and p. */
function InterleavingCredit({ credit }: { credit: InterleavingReport }) {
  const words = useModelWords();
  const [first = "", second = ""] = credit.teams;
  const share = credit.share_first;
  const figures: { label: string; value: string; interval?: string; title?: string }[] = [
    ...[first, second].map((team) => ({
      label: `Wins of ${words.variant(team)}`,
      value: (credit.wins[team] ?? 0).toLocaleString(),
      title: "interleaved impressions where this ranker's films got more clicks",
    })),
    { label: "Ties", value: credit.ties.toLocaleString(), title: "clicks on both rankers' films alike" },
    { label: "No click", value: credit.no_clicks.toLocaleString() },
    {
      label: `${words.variant(first)}'s share of wins`,
      value: percent(share.value),
      interval: share.value != null ? percentCI(share) : "",
    },
    {
      label: "p-value",
      value: credit.p_value == null ? "—" : pValue(credit.p_value),
      title: "two-sided exact binomial test of a 50% share",
    },
  ];
  return (
    <dl className="flex flex-wrap gap-x-8 gap-y-2 text-sm" data-testid="interleaving">
      {figures.map((f) => (
        <div key={f.label} title={f.title}>
          <dt className="text-xs text-zinc-600 dark:text-zinc-400">{f.label}</dt>
          <dd className="tabular-nums">
            {f.value}
            {f.interval ? <span className="block text-[10px] text-zinc-600 dark:text-zinc-400">{f.interval}</span> : null}
          </dd>
        </div>
      ))}
    </dl>
  );
}

/** The fixed-horizon decision in words, with the A/B difference when there is one, and the rule it applied. */
function DecisionView({ report }: { report: OnlineReport }) {
  const words = useModelWords();
  const { decision } = report;
  const [first = "", second = ""] = report.variants;
  const verdict =
    decision.verdict === "better" && decision.winner
      ? `${words.variant(decision.winner)} is better`
      : decision.verdict === "no difference"
        ? "No difference"
        : decision.horizon_reached
          ? "Not yet decidable"
          : "Not yet decidable: the horizon has not been reached";
  const difference = decision.difference;
  const tone =
    decision.verdict === "better"
      ? "border-emerald-300 bg-emerald-50 dark:border-emerald-800 dark:bg-emerald-950"
      : "border-zinc-200 bg-zinc-50 dark:border-zinc-800 dark:bg-zinc-900";
  return (
    <div className={`rounded-md border p-3 text-sm ${tone}`} data-testid="decision">
      <p>
        <span className="font-semibold">Decision: {verdict}</span>
        {difference?.value != null ? (
          <span className="tabular-nums">
            {" "}
            · CTR of {words.variant(second)} minus {words.variant(first)}: {points(difference.value)}
            {difference.low != null && difference.high != null
              ? ` (${points(difference.low)} to ${points(difference.high)})`
              : ""}
          </span>
        ) : null}
      </p>
      <p className="mt-1 text-xs text-zinc-600 dark:text-zinc-400" data-testid="decision-rule">
        {decision.rule}
      </p>
    </div>
  );
}

function when(report: OnlineReport): string {
  if (report.start && report.stop) return `from ${report.start} until ${report.stop}`;
  if (report.start) return `from ${report.start}`;
  return report.stop ? `until ${report.stop}` : "no end date";
}

function ExperimentCard({ report }: { report: OnlineReport }) {
  const words = useModelWords();
  const [first = "", second = ""] = report.variants;
  return (
    <article
      aria-labelledby={`experiment-${report.experiment}`}
      className="space-y-3 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800"
      data-testid="experiment"
    >
      <header className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
        <h3 id={`experiment-${report.experiment}`} className="break-all font-mono text-base font-semibold">
          {report.experiment}
        </h3>
        <span className={`${PILL} bg-violet-100 text-violet-800 dark:bg-violet-900/60 dark:text-violet-200`}>
          {DESIGN_LABELS[report.design]}
        </span>
        <span
          className={`${PILL} ${
            report.active
              ? "bg-emerald-100 text-emerald-800 dark:bg-emerald-900/60 dark:text-emerald-200"
              : "bg-zinc-100 text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300"
          }`}
          data-testid="experiment-state"
        >
          {report.active ? "running" : "not running"}
        </span>
        <p className="w-full text-xs text-zinc-600 dark:text-zinc-400">
          {words.variant(first)} vs {words.variant(second)} · {when(report)}
        </p>
      </header>
      <VariantTable report={report} />
      {report.interleaving ? <InterleavingCredit credit={report.interleaving} /> : null}
      <DecisionView report={report} />
      {report.notes.length ? (
        <details className="text-xs text-zinc-600 dark:text-zinc-400">
          <summary className="cursor-pointer select-none">How to read these figures</summary>
          <ul className="mt-1 list-disc space-y-1 pl-5">
            {report.notes.map((note) => (
              <li key={note}>{note}</li>
            ))}
          </ul>
        </details>
      ) : null}
    </article>
  );
}

/** Every experiment's report, or how to start one. */
export function OnlineExperiments({ experiments }: { experiments: OnlineReport[] }) {
  if (!experiments.length) {
    return (
      <EmptyState title="No experiments yet">
        Start one under <code className="font-mono">experiments:</code> in <code className="font-mono">params.yaml</code>,
        with <code className="font-mono">movie-genie models challenge &lt;version&gt; --model &lt;name&gt;</code> (a
        retrained version against the serving one), or by POST /api/experiments with the admin token.{" "}
        <code className="font-mono">movie-genie simulate --experiment &lt;name&gt;</code> tries one on simulated
        traffic first.
      </EmptyState>
    );
  }
  return (
    <div className="space-y-4">
      {experiments.map((report) => (
        <ExperimentCard key={report.experiment} report={report} />
      ))}
    </div>
  );
}
