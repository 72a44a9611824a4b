/** The models dashboard's "Model versions" panel: the version each model serves and its retrained versions. */
import type { ModelInfo, ModelVersionInfo, OnlineReport, PairedDifference } from "../api/types";
import { formatCI, pairedVerdict, signed, utcMinute } from "../lib/format";
import { useModelWords } from "../lib/models";
import { EmptyState } from "./EmptyState";
import { ScrollRegion } from "./ScrollRegion";
import { TableHead } from "./TableHead";

const BASE = "base";

const PILL = "inline-block rounded-full px-2 py-0.5 text-xs font-medium";
const SERVING_PILL = `${PILL} bg-emerald-100 text-emerald-800 dark:bg-emerald-900/60 dark:text-emerald-200`;
const EXPERIMENT_PILL = `${PILL} bg-violet-100 text-violet-800 dark:bg-violet-900/60 dark:text-violet-200`;

/** "base" reads as what it is: the pipeline's own checkpoints. */
function versionName(version: string): string {
  return version === BASE ? "base (pipeline)" : version;
}

/** The version a difference was taken against ("ease@base" -> "base"): the model is the row's own. */
function againstVersion(against: string): string {
  const at = against.indexOf("@");
  return at < 0 ? against : against.slice(at + 1);
}

/** A paired difference of test NDCG@10 with its interval and what it allows us to say ("—" when there is none). */
export function PairedVerdict({ difference, against }: { difference: PairedDifference | null; against?: string }) {
  if (!difference) return <>—</>;
  const [low = 0, high = 0] = difference.ci; // always [low, high]
  return (
    <>
      {signed(difference.difference)}
      <span className="block text-[10px] text-zinc-600 dark:text-zinc-400">
        [{signed(low)}, {signed(high)}] · {pairedVerdict(difference.ci, against ?? againstVersion(difference.against))}
      </span>
    </>
  );
}

interface VersionRow {
  version: string;
  createdAt: string | null;
  ndcg10: number | null;
  ci: number[] | undefined;
  vsCurrent: PairedDifference | null;
  serving: boolean;
}

/** Newest retrained version first, then the pipeline's base version (its figures are the evaluation report's). */
function versionRows(info: ModelInfo): VersionRow[] {
  const retrained = (info.versions ?? []).map((v: ModelVersionInfo) => ({
    version: v.version,
    createdAt: v.created_at,
    ndcg10: v.test.ndcg10,
    ci: v.test.ci?.ndcg10,
    vsCurrent: v.vs_current,
    serving: v.serving,
  }));
  const base = {
    version: BASE,
    createdAt: null,
    ndcg10: info.evaluation?.test.ndcg10 ?? null,
    ci: info.evaluation?.test.ci?.ndcg10,
    vsCurrent: null,
    serving: info.release === BASE,
  };
  return [...retrained, base];
}

/** The running experiments that have `name` at `version` as a variant (a bare name is the version it serves). */
function experimentsOf(name: string, version: string, serving: boolean, experiments: OnlineReport[]): string[] {
  return experiments
    .filter((e) => e.active && e.variants.some((v) => v === `${name}@${version}` || (serving && v === name)))
    .map((e) => e.experiment);
}

/** Each model's serving version and its retrained versions (date, test NDCG@10, the paired difference with the
 * version that served when it was made), with how to make, promote and roll back versions. */
export function ModelVersions({ models, experiments }: { models: ModelInfo[]; experiments: OnlineReport[] }) {
  const words = useModelWords();
  const anyRetrained = models.some((m) => (m.versions ?? []).length > 0);
  return (
    <div className="space-y-3">
      <ScrollRegion label="Model versions table">
        <table className="w-full text-left text-sm" data-testid="versions-table">
          <caption className="sr-only">
            Versions of each model: the one it serves, and its retrained versions with test NDCG@10
          </caption>
          <TableHead
            className="whitespace-nowrap"
            flushEnd
            columns={[
              { label: "Model" },
              { label: "Version" },
              { label: "Trained" },
              { label: "Test NDCG@10", numeric: true },
              { label: "vs the version it replaces", numeric: true },
              { label: "Status" },
            ]}
          />
          {models.map((info) => {
            const rows = versionRows(info);
            return (
              <tbody
                key={info.name}
                className="border-t border-zinc-200 dark:border-zinc-800"
                data-testid={`versions-${info.name}`}
              >
                {rows.map((row, i) => {
                  const inExperiments = experimentsOf(info.name, row.version, row.serving, experiments);
                  return (
                    <tr key={row.version} data-testid="version-row" data-version={row.version}>
                      {i === 0 ? (
                        <th scope="rowgroup" rowSpan={rows.length} className="py-2 pr-4 align-top font-medium">
                          {words.label(info.name)}
                          <span className="block text-xs font-normal text-zinc-600 dark:text-zinc-400" data-testid="serves">
                            {info.release === null ? (
                              "not loaded"
                            ) : (
                              <>
                                serves <span className="whitespace-nowrap">{versionName(info.release)}</span>
                              </>
                            )}
                          </span>
                        </th>
                      ) : null}
                      <td className="whitespace-nowrap py-1.5 pr-4 font-mono text-xs">{versionName(row.version)}</td>
                      <td className="whitespace-nowrap py-1.5 pr-4 text-xs">
                        {row.createdAt ? utcMinute(row.createdAt) : "—"}
                      </td>
                      <td className="py-1.5 pr-4 text-right tabular-nums">
                        {row.ndcg10 != null ? row.ndcg10.toFixed(4) : "—"}
                        {row.ci ? (
                          <span className="block text-[10px] text-zinc-600 dark:text-zinc-400">{formatCI(row.ci[0], row.ci[1], 4)}</span>
                        ) : null}
                      </td>
                      <td className="py-1.5 pr-4 text-right tabular-nums" data-testid="vs-current">
                        <PairedVerdict difference={row.vsCurrent} />
                      </td>
                      <td className="py-1.5">
                        <span className="flex flex-wrap gap-1">
                          {row.serving ? <span className={SERVING_PILL}>serving</span> : null}
                          {inExperiments.map((name) => (
                            <span key={name} className={EXPERIMENT_PILL} title="a variant of this running experiment">
                              in {name}
                            </span>
                          ))}
                        </span>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            );
          })}
        </table>
      </ScrollRegion>
      {anyRetrained ? (
        <p className="max-w-prose text-xs text-zinc-600 dark:text-zinc-400">
          Each retrained version is tested on its own split (the data with the app&apos;s feedback folded in), so
          compare it with the version it would replace by the paired difference (the same users, 95% bootstrap
          interval), not by NDCG@10 across rows. Serve one with <code className="font-mono">movie-genie models promote &lt;id&gt;</code>;{" "}
          <code className="font-mono">movie-genie models rollback</code> serves the previous one again.
        </p>
      ) : (
        <EmptyState title="No retrained versions yet">
          <code className="font-mono">movie-genie retrain</code> trains one from the app&apos;s feedback,{" "}
          <code className="font-mono">movie-genie models promote &lt;id&gt;</code> serves it and{" "}
          <code className="font-mono">movie-genie models rollback</code> goes back.
        </EmptyState>
      )}
    </div>
  );
}

/** Why the last hot reload of model versions failed; the models loaded before it keep serving. */
export function ReloadWarning({ error }: { error: string }) {
  return (
    <div
      role="alert"
      data-testid="reload-error"
      className="rounded-lg border border-amber-300 bg-amber-50 p-3 text-sm text-amber-950 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100"
    >
      <p className="font-medium">The last reload of model versions failed; the models loaded before it still serve.</p>
      <p className="mt-1 break-words font-mono text-xs">{error}</p>
      <p className="mt-1">
        The server tries again each time it checks <code className="font-mono">serving.json</code>: fix what it
        names, or run <code className="font-mono">movie-genie models rollback</code>.
      </p>
    </div>
  );
}
