"""The scale benchmark's child side (benchmarks/bench_scale.py runs each stage here, in a process of its own, so
that its peak memory is its own): the stages, what they time, and how they report progress before a cap stops
them."""

import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "scale.json"
PUBLISHED = ROOT / "docs" / "results" / "scale.json"
SCALES = (1.0, 10.0, 100.0, 320.0)
NEURAL = ("sasrec", "bert4rec", "two_tower")
STAGES = (
    "data",
    "split",
    "embed",
    "train popularity",
    "train ease",
    *(f"train {m} (1 epoch)" for m in NEURAL),
    "evaluate",
    "index",
    "db load sqlite",
    "db load postgres",
    "recommend",
    "search",
)
# Stages everything after them needs: they are never capped by time (only by memory).
MUST_FINISH = ("data", "split")
NEEDS = {"search": ("index",)}  # a stage that needs another's complete output besides data and split
# Stages that stop at the cap themselves and report their rate (the others are stopped from outside).
SELF_CAPPING = ("embed", *(f"train {m} (1 epoch)" for m in NEURAL), "evaluate")
EASE_LAMBDA = 100.0  # one solve: the grid multiplies it by its length
CALIBRATION_FILMS = 2_000  # EASE predicts its own solve from one of this size
LATENCY_QUERIES = 40
SEARCH_QUERIES = ("dark robot adventure", "funny romantic comedy", "war film", "korlan", "space horror mystery")
POSTGRES_ADMIN_URL = os.environ.get("MOVIE_GENIE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


# ----------------------------------------------------------------------------------------------------------------
# The child side: one stage in its own process
# ----------------------------------------------------------------------------------------------------------------


class Progress:
    """What a stage reports while it runs: units done of a total, as JSON lines the parent reads after a cap."""

    def __init__(self, path: Path, cap_s: float) -> None:
        self.path, self.born, self.cap_s = path, time.perf_counter(), cap_s
        self.start = self.born
        self.stopped = False  # set by a stage that stopped itself at the cap before the end of its work
        self.extra: dict[str, Any] = {}

    def begin(self) -> None:
        """The measured work starts now; what came before (reading the split, loading a model) is preparation."""
        self.start = time.perf_counter()

    def prep_s(self) -> float:
        return self.start - self.born

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def over(self) -> bool:
        """True once the stage has used its time cap (it then stops itself and reports its rate)."""
        return self.elapsed() > self.cap_s

    def report_estimate(self, seconds: float, how: str) -> None:
        """The stage's own prediction of its full time, for a parent that has to stop it before it ends."""
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"estimated_s": seconds, "how": how}) + "\n")

    def report(self, done: float, total: float, unit: str) -> None:
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"done": done, "total": total, "unit": unit, "seconds": self.elapsed()}) + "\n")


def _layout(work: Path) -> Any:
    from movie_genie.config import Layout

    return Layout(work / "data", work / "artifacts")


def _params(work: Path) -> Any:
    from movie_genie.config import load_params

    return load_params(work / "params.yaml")


def stage_data(work: Path, scale: float, progress: Progress) -> dict[str, Any]:
    """Generate the synthetic tables and copy them to processed (the enrich stage without a metadata CSV)."""
    from movie_genie.data.stages import run_data, run_enrich

    params, layout = _params(work), _layout(work)
    run_data(params, layout, synthetic=scale)
    run_enrich(params, layout)
    info = json.loads((layout.processed_dir / "dataset.json").read_text())
    return {k: info[k] for k in ("users", "movies", "ratings", "tags")}


def stage_split(work: Path, scale: float, progress: Progress) -> dict[str, Any]:
    from movie_genie.data.stages import run_split

    run_split(_params(work), _layout(work))
    return {}


def stage_embed(work: Path, scale: float, progress: Progress) -> dict[str, Any]:
    """MiniLM over every film document until the cap; the rest are noisy copies (only for the later stages' cost)."""
    from movie_genie.search.build import read_search_inputs
    from movie_genie.search.config import SearchConfig
    from movie_genie.search.documents import build_documents, document_hash
    from movie_genie.search.embeddings import EMBEDDINGS_FILE, Embeddings, write_embeddings
    from movie_genie.search.encoder import EMBEDDING_DIM, embed_texts, load_sentence_model

    params, layout = _params(work), _layout(work)
    config = SearchConfig.from_params(params)
    movies, tags, _ = read_search_inputs(layout.processed_dir)
    docs = build_documents(movies, tags, config.encoder)
    model = load_sentence_model(config.encoder)
    progress.begin()  # loading the model (~10 s, once per process) is not the stage's cost
    matrix = np.zeros((len(docs), EMBEDDING_DIM), dtype=np.float32)
    done = 0
    while done < len(docs) and not progress.over():
        chunk = docs[done : done + 512]
        matrix[done : done + len(chunk)] = embed_texts(model, [d.text for d in chunk], config.encoder.batch_size)
        done += len(chunk)
        progress.report(done, len(docs), "films")
    progress.stopped = done < len(docs)
    if progress.stopped:  # fill the rest so index and the models can run on a full catalogue
        rng = np.random.default_rng(0)
        rest = matrix[rng.integers(0, done, size=len(docs) - done)] + rng.normal(0, 0.05, (len(docs) - done, 384))
        matrix[done:] = rest / np.linalg.norm(rest, axis=1, keepdims=True)
    write_embeddings(
        layout.embeddings_dir / EMBEDDINGS_FILE,
        Embeddings(
            movie_id=np.array([d.movie_id for d in docs], dtype=np.int64),
            embedding=matrix,
            text_hash=np.array([document_hash(d.text, config.encoder) for d in docs], dtype="<U64"),
        ),
    )
    return {"embedded": done, "films": len(docs)}


def _training_data(work: Path) -> Any:
    from movie_genie.training.loop import load_training_data

    return load_training_data(_layout(work))[0]


def stage_train_popularity(work: Path, scale: float, progress: Progress) -> dict[str, Any]:
    from movie_genie.models.registry import checkpoint_path
    from movie_genie.training.loop import build_model

    data = _training_data(work)
    model = build_model("popularity", _params(work).section("models"))
    progress.begin()
    model.fit(data)
    model.save(checkpoint_path(_layout(work).models_dir, "popularity"))
    return {}


def stage_train_ease(work: Path, scale: float, progress: Progress) -> dict[str, Any]:
    """One solve at one lambda (the grid multiplies it); refuses above the memory budget like `train` does."""
    from movie_genie.data.idmap import IdMap
    from movie_genie.data.schema import ID_MAP_FILE
    from movie_genie.models.ease import Ease, EaseConfig, check_memory, ease_memory_bytes, ease_weights
    from movie_genie.models.registry import checkpoint_path

    section = _params(work).section("models")["ease"]
    model = Ease(EaseConfig.from_params({**section, "lambdas": [EASE_LAMBDA], "progress": False}))
    n = IdMap.load(_layout(work).split_dir / ID_MAP_FILE).n_items
    progress.extra["needs_gib"] = ease_memory_bytes(n, model.config.dtype) / 2**30
    check_memory(model.config, n)  # as `train` does: refuse before reading the training rows
    data = _training_data(work)
    # One solve has no rate to report: time a small one now and predict this one as O(n^3) from it.
    small = min(n, CALIBRATION_FILMS)
    x = (np.random.default_rng(0).random((4 * small, small)) < 0.05).astype(np.float32)
    gram = x.T @ x
    ease_weights(gram[:10, :10], EASE_LAMBDA, model.config.dtype, model.config.threads)  # load BLAS, threadpoolctl
    start = time.perf_counter()
    ease_weights(gram, EASE_LAMBDA, model.config.dtype, model.config.threads)
    progress.report_estimate((time.perf_counter() - start) * (n / small) ** 3, f"{small:,}-film solve x (n/{small})^3")
    progress.begin()
    model.fit(data)
    model.save(checkpoint_path(_layout(work).models_dir, "ease"))
    return {"needs_gib": progress.extra["needs_gib"]}


def stage_train_epoch(name: str) -> Callable[[Path, float, Progress], dict[str, Any]]:
    """One epoch of a neural model's own batches and loss (the shared loop's steps), stopped at the cap."""

    def run(work: Path, scale: float, progress: Progress) -> dict[str, Any]:
        import torch

        from movie_genie.models.registry import checkpoint_path
        from movie_genie.models.seeding import seed_everything, torch_threads
        from movie_genie.models.sequences import TrainRun
        from movie_genie.training.loop import build_model

        data = _training_data(work)
        model: Any = build_model(name, _params(work).section("models"))
        cfg = model.config
        generator = seed_everything(cfg.seed)
        model.id_map = data.id_map
        # The shared loop's pieces (sequences.TorchRecommender._train) driven batch by batch, so a cap can stop
        # mid-epoch and still give the rate.
        model.net = model._build_net(data)
        plan = model._plan(data, TrainRun(1, cfg.lr, 0, cfg.seed, generator, name))
        optimizer = torch.optim.AdamW(model.net.parameters(), lr=cfg.lr)
        progress.begin()  # reading the split and building the sequences is preparation
        batches = plan.batches(np.random.default_rng(cfg.seed))
        done = 0
        with torch_threads(cfg.torch_threads):
            model.net.train()
            for batch in batches:
                inputs, _ = plan.loss_inputs(batch, generator)
                loss = model._loss(*inputs)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                done += 1
                if done % 5 == 0 or done == len(batches):
                    progress.report(done, len(batches), "batches")
                if progress.over():
                    break
        progress.stopped = done < len(batches)
        model.net.eval()
        model._clear_cache()
        if name == "two_tower":  # what its _train adds after the loop (similar users), needed to save
            model.user_table = np.zeros((0, cfg.dim), dtype=np.float32)
        model.save(checkpoint_path(_layout(work).models_dir, name))
        softmax = "full"
        if hasattr(cfg, "full_softmax_max_items"):
            softmax = "full" if data.id_map.n_items <= cfg.full_softmax_max_items else "sampled"
        return {"softmax": softmax if name != "two_tower" else "in-batch"}

    return run


def stage_evaluate(work: Path, scale: float, progress: Progress) -> dict[str, Any]:
    """The full-ranking test protocol (every test user, every film, bootstrap intervals) with SASRec's scoring."""
    from movie_genie.data.split import load_split
    from movie_genie.evaluation.metrics import (
        EvaluationParams,
        TargetRanks,
        bootstrap_ci,
        per_user_metrics,
        rank_targets,
        test_set,
    )
    from movie_genie.models.registry import checkpoint_path, model_class

    params, layout = _params(work), _layout(work)
    settings = EvaluationParams.from_params(params)
    id_map, frames = load_split(layout)
    eval_set = test_set(frames["train"], frames["valid"], frames["test"])
    model = model_class("sasrec").load(checkpoint_path(layout.models_dir, "sasrec"))
    progress.begin()
    chunk = 8 * settings.batch_size
    ranks = []
    done = 0
    while done < len(eval_set) and not progress.over():
        part = eval_set.subset(np.arange(done, min(done + chunk, len(eval_set))))
        ranks.append(rank_targets(model, part, id_map.n_items, batch_size=settings.batch_size)[0])
        done += len(part)
        progress.report(done, len(eval_set), "users")
    progress.stopped = done < len(eval_set)
    greater, ties = (np.concatenate([getattr(r, part) for r in ranks]) for part in ("greater", "ties"))
    per_user = per_user_metrics(TargetRanks(greater, ties))
    for values in per_user.values():
        bootstrap_ci(values, settings.bootstrap_resamples, settings.seed)
    return {"users": done}


def stage_index(work: Path, scale: float, progress: Progress) -> dict[str, Any]:
    from movie_genie.search.build import build_index, read_search_inputs
    from movie_genie.search.config import SearchConfig
    from movie_genie.search.embeddings import EMBEDDINGS_FILE
    from movie_genie.search.encoder import load_sentence_model

    params, layout = _params(work), _layout(work)
    config = SearchConfig.from_params(params)
    movies, tags, ratings = read_search_inputs(layout.processed_dir)
    model = load_sentence_model(config.encoder)
    progress.begin()
    report = build_index(
        movies, tags, ratings, layout.embeddings_dir / EMBEDDINGS_FILE, layout.index_dir, config, model
    )
    return {"vector_index": report.vector_index}


def _db_load(url: str, work: Path, progress: Progress) -> dict[str, Any]:
    from movie_genie.db.config import DatabaseParams
    from movie_genie.db.engine import make_engine
    from movie_genie.db.load import load_processed

    engine = make_engine(url)
    progress.begin()
    report = load_processed(
        engine, _layout(work).processed_dir, dataset_name="synthetic", params=DatabaseParams(), progress=True
    )
    engine.dispose()
    return {"ratings": report.ratings}


def stage_db_sqlite(work: Path, scale: float, progress: Progress) -> dict[str, Any]:
    return _db_load(f"sqlite:///{work / 'data' / 'movie_genie.db'}", work, progress)


def stage_db_postgres(work: Path, scale: float, progress: Progress) -> dict[str, Any]:
    return _db_load(os.environ["BENCH_POSTGRES_URL"], work, progress)


def latency_ms(fn: Callable[[int], Any], n: int) -> dict[str, float]:
    fn(0)  # warm caches
    samples = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {"p50_ms": statistics.median(samples), "p95_ms": samples[int(0.95 * (len(samples) - 1))]}


def stage_recommend(work: Path, scale: float, progress: Progress) -> dict[str, Any]:
    """model.recommend(history of a test user, k=10) one query at a time, as an API worker serves it."""
    import torch

    from movie_genie.data.split import load_split
    from movie_genie.models.base import Query
    from movie_genie.models.catalogue import MODEL_NAMES
    from movie_genie.models.registry import checkpoint_path, model_class

    layout = _layout(work)
    torch.set_num_threads(1)  # one intra-op thread per API worker (serving.torch_threads)
    id_map, frames = load_split(layout)
    train = frames["train"]
    rng = np.random.default_rng(0)
    users = rng.choice(train["user_idx"].unique(), size=LATENCY_QUERIES + 1, replace=False)
    item_ids = np.asarray(id_map.item_ids)
    histories = [item_ids[train.loc[train["user_idx"] == u, "item_idx"].to_numpy()][-200:].tolist() for u in users]
    progress.begin()
    result: dict[str, Any] = {}
    for name in MODEL_NAMES:
        path = checkpoint_path(layout.models_dir, name)
        if not path.is_file():
            continue
        model = model_class(name).load(path)
        result[name] = latency_ms(lambda i, m=model: m.recommend(Query(histories[i]), k=10), LATENCY_QUERIES)
    return {"latency": result, "films": id_map.n_items}


def stage_search(work: Path, scale: float, progress: Progress) -> dict[str, Any]:
    from movie_genie.search.engine import SearchEngine

    engine = SearchEngine.load(_layout(work).index_dir)
    progress.begin()
    queries = [*SEARCH_QUERIES] * (LATENCY_QUERIES // len(SEARCH_QUERIES) + 1)
    engine.encoder.cache_clear()
    latency = latency_ms(lambda i: engine.search(queries[i] + f" {i}", k=20), LATENCY_QUERIES)
    return {"latency": {"hybrid": latency}, "vector_index": engine.manifest.get("vector_index")}


CHILD_STAGES: dict[str, Callable[[Path, float, Progress], dict[str, Any]]] = {
    "data": stage_data,
    "split": stage_split,
    "embed": stage_embed,
    "train popularity": stage_train_popularity,
    "train ease": stage_train_ease,
    **{f"train {m} (1 epoch)": stage_train_epoch(m) for m in NEURAL},
    "evaluate": stage_evaluate,
    "index": stage_index,
    "db load sqlite": stage_db_sqlite,
    "db load postgres": stage_db_postgres,
    "recommend": stage_recommend,
    "search": stage_search,
}


def child(stage: str, work: Path, scale: float, cap_s: float, progress_file: Path) -> int:
    """Run one stage; its last line in progress_file is {"result": ...} or {"refused": message}."""
    from movie_genie.models.ease import EaseMemoryError

    progress = Progress(progress_file, cap_s)
    try:
        result = CHILD_STAGES[stage](work, scale, progress)
    except EaseMemoryError as exc:  # a clear refusal (EASE's memory guard) is a result, not a crash
        line = {"refused": str(exc), **progress.extra}
    else:
        line = {"result": result, "seconds": progress.elapsed(), "prep_s": progress.prep_s()}
        line["capped"] = progress.stopped
    with progress_file.open("a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")
    return 0
