"""Render a rubric as a Markdown coding guide for human annotators."""

from __future__ import annotations

from typing import Any

from annotation.rubric import Label, Rubric

__all__ = ["render_guide"]


def render_guide(rubric: Rubric) -> str:
    """Markdown coding guide: purpose, unit, labels with definitions, notes and examples.

    Examples
    --------
    >>> from annotation.rubric import load_rubric
    >>> print(render_guide(load_rubric("mathdial-moves")).splitlines()[0])
    # MathDial teacher moves — coding guide
    """
    r = rubric
    out = [
        f"# {r.title or r.id} — coding guide",
        "",
        f"Rubric `{r.id}`, version {r.version} (content hash `{r.sha256[:12]}`).",
        "",
        r.description.strip(),
        "",
    ]
    if r.source:
        out += [f"*Source:* {r.source.strip()}", ""]
    out += _what_to_code(r)
    if r.instructions:
        out += ["", "## Instructions", "", r.instructions.strip()]
    out += [
        "",
        {"single": "## Labels", "dimensions": "## Dimensions"}.get(r.mode, "## Categories"),
        "",
    ]
    for lb in r.labels:
        out += _label_section(lb)
    if r.notes:
        out += ["## Notes", "", r.notes.strip(), ""]
    return "\n".join(out).rstrip() + "\n"


def _is(pairs: dict[str, Any]) -> str:
    return ", ".join(f"`{k}` is `{v}`" for k, v in pairs.items())


def _what_to_code(r: Rubric) -> list[str]:
    """The "What to code" section: unit, turns coded, decision, scale, context, scheme."""
    unit = "one turn" if r.unit == "turn" else "one whole dialogue"
    out = ["## What to code", f"- Unit: {unit}."]
    if r.applies_to.roles:
        out.append(f"- Code only turns by: {', '.join(r.applies_to.roles)}.")
    if r.applies_to.meta:
        out.append("- Code only turns whose " + _is(r.applies_to.meta) + ".")
    decisions = {
        "single": "- Choose exactly one label per unit.",
        "multi": "- Mark every category that applies (possibly none).",
        "dimensions": "- Rate every dimension below: choose exactly one of its levels.",
    }
    out.append(
        decisions.get(
            r.mode,
            f"- Decide each category separately: yes (`{r.yes_no['yes']}`) or no "
            f"(`{r.yes_no['no']}`).",
        )
    )
    if r.ordered:
        out.append(
            "- The levels of each dimension form an ordered scale, in the order listed."
            if r.mode == "dimensions"
            else "- The labels form an ordered scale, in the order listed below."
        )
    ctx = []
    if r.unit == "turn" and r.context.turns:
        ctx.append(f"the {r.context.turns} previous turns")
    if r.context.meta:
        ctx.append("the dialogue fields " + ", ".join(f"`{m}`" for m in r.context.meta))
    if r.context.exclude_meta:
        ctx.append("never turns whose " + _is(r.context.exclude_meta))
    if ctx:
        out.append(f"- Context shown: {' and '.join(ctx)}.")
    out.append(f"- Labels are recorded under scheme `{r.scheme}`.")
    return out


def _bullets(title: str, items: list[str]) -> list[str]:
    return [f"**{title}**", *(f"- {x}" for x in items), ""] if items else []


def _label_section(lb: Label) -> list[str]:
    """One label (category, dimension): definition, levels, include/exclude, examples."""
    title = f" — {lb.title}" if lb.title and lb.title != lb.name else ""
    out = [f"### `{lb.name}`{title}", "", lb.definition.strip(), ""]
    if lb.levels:
        out.append("**Levels** (from the first to the last):")
        out += [
            f"- `{lv.name}`" + (f": {lv.definition.strip()}" if lv.definition else "")
            for lv in lb.levels
        ]
        out.append("")
    out += _bullets("Include:", list(lb.include))
    out += _bullets("Exclude:", list(lb.exclude))
    if lb.examples:
        out.append("**Examples:**")
        for ex in lb.examples:
            ctx_s = f" (after: {ex.context})" if ex.context else ""
            note = f" — {ex.note}" if ex.note else ""
            out.append(f'- "{ex.text}"{ctx_s}{note}')
        out.append("")
    return out
