import { useQuery } from "@tanstack/react-query";

import { fetchMetricsText } from "../api/endpoints";
import { errorMessage, isBackendDown } from "../api/errors";
import { useModels } from "../api/queries";
import type { ModelInfo } from "../api/types";
import { BarChartCI, LineChart } from "../components/charts";
import { EmptyState, ErrorNote } from "../components/EmptyState";
import { ModelVersions, PairedVerdict, ReloadWarning } from "../components/ModelVersions";
import { OnlineExperiments } from "../components/OnlineExperiments";
import { Skeleton } from "../components/Skeleton";
import { formatCI } from "../lib/format";
import { useModelWords } from "../lib/models";
import { histogramQuantile, latencyHistogramNames, parseHistograms } from "../lib/prometheus";
import { METRIC_LABELS, type MetricName, type ModelFigures, readModelFigures } from "../lib/report";
import { usePageTitle } from "../lib/usePageTitle";
import { ScrollRegion } from "../components/ScrollRegion";
import { TableHead } from "../components/TableHead";

function LiveLatency() {
  const metrics = useQuery({
    queryKey: ["metrics-text"],
    queryFn: ({ signal }) => fetchMetricsText(signal),
    refetchInterval: 5_000,
    retry: false,
  });
  if (metrics.isPending) return <Skeleton className="h-32 w-full" />;
  if (metrics.error) return <ErrorNote message={errorMessage(metrics.error)} />;
  const rows = latencyHistogramNames(metrics.data).flatMap((name) =>
    parseHistograms(metrics.data, name).map((h) => ({
      key: `${name}${JSON.stringify(h.labels)}`,
      label: Object.values(h.labels).join(" ") || name,
      count: h.count,
      p50: histogramQuantile(h, 0.5),
      p95: histogramQuantile(h, 0.95),
      p99: histogramQuantile(h, 0.99),
    })),
  );
  if (!rows.length) return <EmptyState title="No requests timed yet">Use the app and this table fills in.</EmptyState>;
  const ms = (s: number | null) => (s === null ? "—" : `${(s * 1000).toFixed(1)} ms`);
  return (
    <div>
      <ScrollRegion label="Latency table">
      <table className="w-full text-left text-sm" data-testid="latency-table">
        <caption className="sr-only">Request latency by endpoint, from this server process</caption>
        <TableHead
          flushEnd
          columns={[
            { label: "Endpoint" },
            { label: "Requests", numeric: true },
            { label: "p50", numeric: true },
            { label: "p95", numeric: true },
            { label: "p99", numeric: true },
          ]}
        />
        <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
          {rows.map((r) => (
            <tr key={r.key}>
              <td className="py-1.5 pr-4 font-mono text-xs">{r.label}</td>
              <td className="py-1.5 pr-4 text-right tabular-nums">{r.count}</td>
              <td className="py-1.5 pr-4 text-right tabular-nums">{ms(r.p50)}</td>
              <td className="py-1.5 pr-4 text-right tabular-nums">{ms(r.p95)}</td>
              <td className="py-1.5 text-right tabular-nums">{ms(r.p99)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      </ScrollRegion>
      <p className="mt-2 text-xs text-zinc-600 dark:text-zinc-400">Estimated from the Prometheus histograms at /metrics; refreshes every 5 s.</p>
    </div>
  );
}

/** The evaluation report (metrics with 95% intervals, training curves), model versions, online experiments and live
 * serving latency. */
export default function Dashboard() {
  usePageTitle("Models");
  const models = useModels();
  const protocol = models.data?.report?.protocol ?? null;
  return (
    <div className="space-y-10">
      <div>
        <h1 className="text-2xl font-bold tracking-tight">Models</h1>
        <p className="mt-2 max-w-prose text-sm text-zinc-700 dark:text-zinc-300">
          Movie Genie has several ways of finding films for you, and every row of your home page says which one made
          it. Each was tested the same way: it saw everyone&apos;s ratings except their latest, and had to suggest the
          film they rated next.
        </p>
      </div>
      {models.isPending ? (
        <Skeleton className="h-64 w-full" />
      ) : models.error ? (
        isBackendDown(models.error) ? null : (
          <ErrorNote message={`The models could not be described: ${errorMessage(models.error)}`} />
        )
      ) : (
        <ModelGuide models={models.data.models} />
      )}
      {/* For engineers: the report's figures with intervals, versions, experiments and latency, one click away. */}
      <details className="rounded-lg border border-zinc-200 p-4 dark:border-zinc-800" data-testid="model-numbers">
        <summary className="min-h-11 cursor-pointer content-center font-medium">
          The numbers: test metrics, model versions, experiments and speed
        </summary>
        <div className="mt-4 space-y-10">
          {protocol ? (
            <p className="max-w-prose text-sm text-zinc-600 dark:text-zinc-400" data-testid="protocol">
              {protocol}
            </p>
          ) : null}
          {models.data?.reload_error ? <ReloadWarning error={models.data.reload_error} /> : null}
          {models.data ? (
            <>
              <ReportView models={models.data.models} />
              <section aria-labelledby="versions-heading" className="space-y-3">
                <h2 id="versions-heading" className="text-lg font-semibold">
                  Model versions
                </h2>
                <ModelVersions models={models.data.models} experiments={models.data.experiments ?? []} />
              </section>
              <section aria-labelledby="experiments-heading" className="space-y-3">
                <h2 id="experiments-heading" className="text-lg font-semibold">
                  Online experiments
                </h2>
                <p className="max-w-prose text-sm text-zinc-600 dark:text-zinc-400">
                  What people did with the lists an experiment served them: click-through, MRR of the first click and
                  ratings after an impression, each with its 95% interval, and the decision once the horizon is
                  reached.
                </p>
                <OnlineExperiments experiments={models.data.experiments ?? []} />
              </section>
            </>
          ) : null}
          <section aria-labelledby="latency-heading" className="space-y-3">
            <h2 id="latency-heading" className="text-lg font-semibold">
              Live latency
            </h2>
            <LiveLatency />
          </section>
        </div>
      </details>
    </div>
  );
}

/** Each model in a sentence, with the one figure a film fan can read: how often the film a person went on to love
 * was among its ten suggestions. The tables below are the same figures with their intervals. */
function ModelGuide({ models }: { models: ModelInfo[] }) {
  const words = useModelWords();
  return (
    <section aria-labelledby="guide-heading" className="space-y-3">
      <h2 id="guide-heading" className="text-lg font-semibold">
        How each model recommends
      </h2>
      <ul className="grid gap-3 md:grid-cols-2 lg:grid-cols-3" data-testid="model-guide">
        {models.map((info) => {
          const liked = info.evaluation?.test.liked_hr10 ?? null;
          return (
            <li key={info.name} className="rounded-lg border border-zinc-200 p-3 dark:border-zinc-800">
              <h3 className="font-medium">{words.label(info.name)}</h3>
              {words.summary(info.name) ? (
                <p className="mt-1 text-sm text-zinc-700 dark:text-zinc-300">{words.summary(info.name)}</p>
              ) : null}
              {liked !== null ? (
                <p className="mt-2 text-sm" data-testid="liked-share">
                  For <span className="font-semibold tabular-nums">{Math.round(liked * 100)} in 100</span> people, the
                  next film they loved was among its 10 suggestions.
                </p>
              ) : null}
              {!info.loaded ? <p className="mt-1 text-xs text-zinc-600 dark:text-zinc-400">Not running on this server.</p> : null}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

interface Row {
  info: ModelInfo;
  figures: ModelFigures;
}

function ReportView({ models }: { models: ModelInfo[] }) {
  const words = useModelWords();
  const rows: Row[] = models.map((info) => ({ info, figures: readModelFigures(info.evaluation) }));
  const names = (Object.keys(METRIC_LABELS) as MetricName[]).filter((n) => rows.some((r) => r.figures.metrics[n]));
  const charted = names.filter((n) => rows.some((r) => r.figures.metrics[n]?.low != null));
  const curveNames = [...new Set(rows.flatMap((r) => Object.keys(r.figures.curves)))];
  return (
    <>
      <section aria-labelledby="metrics-heading" className="space-y-3">
        <h2 id="metrics-heading" className="text-lg font-semibold">
          Test metrics
        </h2>
        {!names.length ? (
          <EmptyState title="No evaluation figures yet">
            Run <code>make pipeline</code> (or <code>movie-genie evaluate</code>) to write the report.
          </EmptyState>
        ) : null}
        <ScrollRegion label="Test metrics table">
          <table className="w-full text-left text-sm" data-testid="metrics-table">
            <caption className="sr-only">Metrics by model with 95% bootstrap intervals</caption>
            <TableHead
              columns={[
                { label: "Model" },
                { label: "Version" },
                { label: "Loaded" },
                ...names.map((n) => ({ label: METRIC_LABELS[n], numeric: true })),
                { label: "NDCG@10 − EASE", numeric: true },
              ]}
            />
            <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
              {rows.map(({ info, figures }) => (
                <tr key={info.name}>
                  <th scope="row" className="py-2 pr-4 font-medium">
                    {words.label(info.name)}
                  </th>
                  <td className="py-2 pr-4 font-mono text-xs">{info.version ?? "—"}</td>
                  <td className="py-2 pr-4">{info.loaded ? "yes" : "no"}</td>
                  {names.map((n) => {
                    const v = figures.metrics[n];
                    return (
                      <td key={n} className="py-2 pr-4 text-right tabular-nums">
                        {v ? v.value.toFixed(4) : "—"}
                        {v ? <span className="block text-[10px] text-zinc-600 dark:text-zinc-400">{formatCI(v.low, v.high)}</span> : null}
                      </td>
                    );
                  })}
                  <td className="py-2 pr-4 text-right tabular-nums" data-testid="vs-ease">
                    <PairedVerdict difference={info.evaluation?.vs_ease ?? null} against="EASE" />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      </section>
      {charted.length ? (
        <section aria-labelledby="bars-heading" className="space-y-3">
          <h2 id="bars-heading" className="text-lg font-semibold">
            With 95% intervals
          </h2>
          <div className="grid gap-6 md:grid-cols-2">
            {charted.map((n) => (
              <BarChartCI
                key={n}
                title={METRIC_LABELS[n]}
                data={rows.flatMap(({ info, figures }) => {
                  const v = figures.metrics[n];
                  return v ? [{ label: words.label(info.name), value: v.value, low: v.low, high: v.high }] : [];
                })}
              />
            ))}
          </div>
        </section>
      ) : null}
      {curveNames.length ? (
        <section aria-labelledby="curves-heading" className="space-y-3">
          <h2 id="curves-heading" className="text-lg font-semibold">
            Training curves
          </h2>
          <div className="grid gap-6 md:grid-cols-2">
            {curveNames.map((c) => (
              <LineChart
                key={c}
                title={c}
                series={rows.flatMap(({ info, figures }) => {
                  const values = figures.curves[c];
                  return values?.length ? [{ name: words.label(info.name), values }] : [];
                })}
              />
            ))}
          </div>
        </section>
      ) : null}
    </>
  );
}
