"""Writing evaluation results: JSON figures, a markdown report, TREC runs and PNG plots."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from rag.evaluation.runner import SetResult
from rag.evaluation.trec import write_trec_run

__all__ = ["results_json", "write_results"]

_TABLE_METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")


def results_json(results: Sequence[SetResult], *, command: str, model: str, encoder: str = "") -> dict[str, object]:
    """``encoder``: what computed the vectors (:func:`rag.engine.encoder_numerics`): near-tie questions can
    change their first hit between bfloat16 and float32, so figures name the arithmetic they were made with."""
    return {
        "command": command,
        "model": model,
        "encoder": encoder,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "sets": {
            r.name: {
                "queries": r.queries,
                "answerable": r.answerable,
                "seconds": r.seconds,
                "configs": r.configs,
                "answers": r.answers,
            }
            for r in results
        },
    }


def _fmt(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else ("–" if value is None else str(value))


def markdown_tables(results: Sequence[SetResult]) -> str:
    """The summary table (set × configuration) and the answer-level figures."""
    lines = ["| set | config | " + " | ".join(m.replace("recall", "R") for m in _TABLE_METRICS) + " |"]
    lines.append("|---|---|" + "---|" * len(_TABLE_METRICS))
    for result in results:
        for config, figures in result.configs.items():
            values = figures["all"]
            lines.append(f"| {result.name} | {config} | " + " | ".join(_fmt(values.get(m)) for m in _TABLE_METRICS) + " |")
    answer_rows = [r for r in results if r.answers]
    if answer_rows:
        lines += [
            "",
            "Answers (the shipped refusal verifier decides; first citation = paragraph, + sub-unit where the question names one;"
            " answer quoted = gold paragraph cited first and a gold answer string in the quoted text, where the set has them):",
            "",
            "| set | questions | first citation | first citation + sub-unit | answer quoted | refusal precision | refusal recall | refusal AUC | false refusals |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for result in answer_rows:
            for group, figures in result.answers.items():
                if group in ("suggested_thresholds", "lookup", "by_type"):
                    continue
                lines.append(
                    f"| {result.name} ({group}) | {figures['answerable']}+{figures['unanswerable']} unanswerable | "
                    f"{_fmt(figures['first_citation_accuracy'])} | {_fmt(figures.get('first_citation_sub_accuracy'))} | "
                    f"{_fmt(figures.get('answer_quoted'))} | "
                    f"{_fmt(figures['refusal_precision'])} | {_fmt(figures['refusal_recall'])} | {_fmt(figures.get('refusal_auc'))} | "
                    f"{figures['false_refusals']} |"
                )
        for result in answer_rows:
            by_type = result.answers.get("by_type") or {}
            if by_type:
                lines += ["", f"{result.name}, answers by question type:", "", "| type | answerable | unanswerable | first citation | refusal recall | false refusals |", "|---|---|---|---|---|---|"]
                for qtype, f in by_type.items():
                    lines.append(
                        f"| {qtype} | {f['answerable']} | {f['unanswerable']} | {_fmt(f['first_citation_accuracy'])} | {_fmt(f['refusal_recall'])} | {f['false_refusals']} |"
                    )
            lookup = result.answers.get("lookup")
            if lookup:
                lines += ["", "Look-ups (`eval/lookup_questions.jsonl`: paragraph references, and units that do not exist):", "", "| language | questions | right | accuracy | wrong |", "|---|---|---|---|---|"]
                for lang, f in lookup.items():
                    lines.append(f"| {lang} | {f['questions']} | {f['right']} | {_fmt(f['accuracy'])} | {', '.join(f['wrong']) or '–'} |")
        calibrated = [(result.name, group, cal) for result in answer_rows for group, cal in result.answers.get("suggested_thresholds", {}).items()]
        if calibrated:  # only sets with answerable and unanswerable questions
            lines += ["", "Refusal thresholds calibrated on these questions (best-sentence cosine; most right responses):", ""]
            lines += [
                "| set | pairing | threshold | right responses | without refusal | refusal precision | refusal recall | false refusals |",
                "|---|---|---|---|---|---|---|---|",
            ]
        for name, group, cal in calibrated:
            lines.append(
                f"| {name} | {group} | {cal['threshold']:.3f} | {_fmt(cal['accuracy'])} | {_fmt(cal['accuracy_without_refusal'])} | "
                f"{_fmt(cal['precision'])} | {_fmt(cal['recall'])} | {cal['false_refusals']} |"
            )
    return "\n".join(lines)


def _breakdown_tables(result: SetResult) -> list[str]:
    lines: list[str] = []
    for kind in ("by_lang", "by_type"):
        rows = [(config, group, figures) for config, data in result.configs.items() for group, figures in data[kind].items()]
        if not rows or (kind == "by_lang" and len({g for _, g, _ in rows}) < 2):
            continue
        lines += ["", f"{result.name}, {kind.replace('_', ' ')}:", "", "| config | group | n | R@1 | R@5 | MRR@10 |", "|---|---|---|---|---|---|"]
        for config, group, figures in rows:
            lines.append(f"| {config} | {group} | {figures['n']} | {_fmt(figures['recall@1'])} | {_fmt(figures['recall@5'])} | {_fmt(figures['mrr@10'])} |")
    return lines


def _plot(results: Sequence[SetResult], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rag.evaluation.metrics import retrieval_metrics

    ks = list(range(1, 11))
    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.6), squeeze=False)
    for axis, result in zip(axes[0], results, strict=True):
        for config, run in result.runs.items():
            qrels = result.qrels
            curve = retrieval_metrics(qrels, run, [f"recall@{k}" for k in ks])
            axis.plot(ks, [curve[f"recall@{k}"] for k in ks], marker="o", markersize=3, label=config)
        axis.set_title(result.name)
        axis.set_xlabel("k")
        axis.set_ylim(0, 1.01)
        axis.grid(alpha=0.3)
    axes[0][0].set_ylabel("Recall@k")
    axes[0][-1].legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _plot_risk_coverage(results: Sequence[SetResult], path: Path) -> bool:
    """Risk–coverage of the answers per set and language; False when no set measured answers."""
    from rag.evaluation.selective import save_risk_coverage_plot

    curves = {
        f"{r.name} {group}": [tuple(p) for p in figures["risk_coverage"]]
        for r in results
        if r.answers
        for group, figures in r.answers.items()
        if group not in ("all", "suggested_thresholds", "lookup", "by_type") and isinstance(figures, dict) and "risk_coverage" in figures
    }
    if not curves:
        return False
    save_risk_coverage_plot(curves, path)
    return True


def write_results(results: Sequence[SetResult], out_dir: Path, *, command: str, model: str, encoder: str = "") -> dict[str, object]:
    """Write results.json, report.md, runs/<set>.<config>.trec and recall_at_k.png under ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = results_json(results, command=command, model=model, encoder=encoder)
    (out_dir / "results.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    runs_dir = out_dir / "runs"
    runs_dir.mkdir(exist_ok=True)
    for result in results:
        for config, run in result.runs.items():
            if any(run.values()):
                write_trec_run({q: s for q, s in run.items() if s}, runs_dir / f"{result.name}.{config}.trec", tag=config)
    report = ["# Retrieval evaluation", "", f"Command: `{command}`", "", f"Model: `{model}`, created {data['created']}", ""]
    if encoder:
        report += [f"Encoder: {encoder}", ""]
    report.append(markdown_tables(results))
    for result in results:
        report += _breakdown_tables(result)
        if result.comparison:
            report += ["", f"Significance ({result.name}, paired t-test, p < 0.05; superscripts mark configurations this one beats):", "", "```", result.comparison, "```"]
    report += ["", "![Recall@k](recall_at_k.png)", ""]
    if _plot_risk_coverage(results, out_dir / "risk_coverage.png"):
        report += ["![Risk–coverage of the answers](risk_coverage.png)", ""]
    (out_dir / "report.md").write_text("\n".join(report), encoding="utf-8")
    _plot(results, out_dir / "recall_at_k.png")
    return data
