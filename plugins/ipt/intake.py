"""The IPT intake: problem areas, dispute stage, interpersonal inventory,
formulation, prior episodes (SPEC 8).

``validate`` checks a whole intake (PUT replaces it) and answers
``(clean, violations)`` with at most one violation per failing field, each
naming the field and an ``ipt.intake.*`` rule. Absent or null fields are
simply not recorded: a missing problem area is a flag, not a refusal.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from practice.api.fields import FIRST_BIRTH_DAY as CLINICAL_FIRST_DAY
from practice.contributions import IntakeField, Verdict, violation
from practice.services.flags import practice_today

from .rules import PLUGIN

PROBLEM_AREAS = ("grief", "role_dispute", "role_transition", "interpersonal_deficits")
LAST_RESORT = "interpersonal_deficits"
DISPUTE_STAGES = ("renegotiation", "impasse", "dissolution")
MAX_INVENTORY = 50
MAX_TEXT = 20_000

FIELDS = (
    IntakeField("primary_problem_area", "Primary problem area", "choice",
                choices=PROBLEM_AREAS,
                help="The focus of treatment, agreed by the end of the initial phase."),
    IntakeField("secondary_problem_area", "Secondary problem area", "choice",
                choices=PROBLEM_AREAS,
                help="Optional; differs from the primary; none when the primary is "
                     "interpersonal deficits (the area of last resort)."),
    IntakeField("dispute_stage", "Stage of the role dispute", "choice", choices=DISPUTE_STAGES,
                help="Required with a role dispute (primary or secondary), refused otherwise."),
    IntakeField("interpersonal_inventory", "Interpersonal inventory", "list",
                help="Entries {person, relationship, closeness 1-5, notes}."),
    IntakeField("formulation", "Interpersonal formulation", "text"),
    IntakeField("formulation_accepted_on", "Formulation accepted on", "date",
                help="YYYY-MM-DD; needs a formulation."),
    IntakeField("prior_episodes", "Prior depressive episodes", "integer",
                help="A whole number, 0 or more."),
)
FIELD_NAMES = tuple(f.name for f in FIELDS)


def _v(field: str, rule: str, message: str) -> Verdict:
    return violation(f"ipt.intake.{rule}", message, field=field, plugin=PLUGIN)


def _choice(data: dict, name: str, choices: tuple[str, ...], out: list[Verdict]) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if value not in choices:
        out.append(_v(name, "choice", f"{name} must be one of: {', '.join(choices)}."))
        return None
    return value


def _inventory(value: Any, out: list[Verdict]) -> list[dict] | None:
    name = "interpersonal_inventory"
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_INVENTORY:
        out.append(_v(name, "inventory", f"{name} must be a list of at most {MAX_INVENTORY} "
                                         "entries."))
        return None
    clean = []
    for i, item in enumerate(value):
        where = f"{name}[{i}]"
        if not isinstance(item, dict):
            out.append(_v(where, "inventory", "Each entry is an object {person, relationship, "
                                              "closeness, notes}."))
            continue
        extra = sorted(set(item) - {"person", "relationship", "closeness", "notes"})
        if extra:
            out.append(_v(f"{where}.{extra[0]}", "unknown_field",
                          f"An inventory entry has no field {extra[0]!r}."))
        ok = True
        for key, limit in (("person", 200), ("relationship", 100)):
            text = item.get(key)
            if not isinstance(text, str) or not text.strip() or len(text) > limit:
                out.append(_v(f"{where}.{key}", "inventory",
                              f"{key} is required: text of 1-{limit} characters."))
                ok = False
        closeness = item.get("closeness")
        if isinstance(closeness, bool) or not isinstance(closeness, int) \
                or not 1 <= closeness <= 5:
            out.append(_v(f"{where}.closeness", "inventory",
                          "closeness is required: a whole number from 1 to 5."))
            ok = False
        notes = item.get("notes")
        if notes is not None and (not isinstance(notes, str) or len(notes) > MAX_TEXT):
            out.append(_v(f"{where}.notes", "inventory", "notes must be text."))
            ok = False
        if ok and not extra:
            clean.append({"person": item["person"].strip(),
                          "relationship": item["relationship"].strip(),
                          "closeness": closeness, "notes": notes or ""})
    return clean


def validate(data: Any) -> tuple[dict, list[Verdict]]:
    """Check a whole intake; return the clean intake and the violations."""
    out: list[Verdict] = []
    if not isinstance(data, dict):
        return {}, [_v("_schema", "shape", "The intake is a JSON object of fields.")]
    for key in sorted(set(data) - set(FIELD_NAMES)):
        out.append(_v(str(key), "unknown_field",
                      f"The IPT intake has no field {key!r}; fields: {', '.join(FIELD_NAMES)}."))
    clean: dict[str, Any] = {}

    primary = _choice(data, "primary_problem_area", PROBLEM_AREAS, out)
    secondary = _choice(data, "secondary_problem_area", PROBLEM_AREAS, out)
    if secondary is not None:
        if primary is None and data.get("primary_problem_area") is None:
            out.append(_v("secondary_problem_area", "secondary_without_primary",
                          "A secondary problem area needs a primary one."))
        elif secondary == primary:
            out.append(_v("secondary_problem_area", "secondary_same_as_primary",
                          "The secondary problem area must differ from the primary."))
        elif primary == LAST_RESORT:
            out.append(_v("secondary_problem_area", "secondary_with_deficits",
                          "Interpersonal deficits is the area of last resort: it takes no "
                          "secondary problem area."))
        else:
            clean["secondary_problem_area"] = secondary
    if primary is not None:
        clean["primary_problem_area"] = primary

    stage = _choice(data, "dispute_stage", DISPUTE_STAGES, out)
    dispute = "role_dispute" in (data.get("primary_problem_area"),
                                 data.get("secondary_problem_area"))
    if dispute and data.get("dispute_stage") is None:
        out.append(_v("dispute_stage", "dispute_stage_required",
                      "A role dispute needs its stage: renegotiation, impasse or dissolution."))
    elif not dispute and data.get("dispute_stage") is not None:
        out.append(_v("dispute_stage", "dispute_stage_not_allowed",
                      "A dispute stage applies only to a role dispute."))
    elif stage is not None:
        clean["dispute_stage"] = stage

    inventory = _inventory(data.get("interpersonal_inventory"), out)
    if inventory is not None:
        clean["interpersonal_inventory"] = inventory

    formulation = data.get("formulation")
    if formulation is not None:
        if not isinstance(formulation, str) or len(formulation) > MAX_TEXT:
            out.append(_v("formulation", "formulation",
                          f"formulation must be text of at most {MAX_TEXT} characters."))
        elif formulation.strip():
            clean["formulation"] = formulation

    accepted = data.get("formulation_accepted_on")
    if accepted is not None:
        try:
            if not isinstance(accepted, str):
                raise ValueError(accepted)
            day = date.fromisoformat(accepted)
            if len(accepted) != 10:
                raise ValueError(accepted)
        except ValueError:
            out.append(_v("formulation_accepted_on", "date",
                          "formulation_accepted_on must be a date, YYYY-MM-DD."))
        else:
            if not CLINICAL_FIRST_DAY <= day <= practice_today():
                # A clinical date: never in the future (SPEC section 4).
                out.append(_v("formulation_accepted_on", "date",
                              "formulation_accepted_on must be between 1900-01-01 and today."))
            elif "formulation" not in clean:
                out.append(_v("formulation_accepted_on", "accepted_without_formulation",
                              "A formulation must be written before it is accepted."))
            else:
                clean["formulation_accepted_on"] = day.isoformat()

    episodes = data.get("prior_episodes")
    if episodes is not None:
        if isinstance(episodes, bool) or not isinstance(episodes, int) \
                or not 0 <= episodes <= 1000:
            out.append(_v("prior_episodes", "prior_episodes",
                          "prior_episodes must be a whole number, 0 or more."))
        else:
            clean["prior_episodes"] = episodes
    return clean, _one_per_field(out)


def _one_per_field(found: list[Verdict]) -> list[Verdict]:
    """Keep the first violation for each field."""
    seen: set[str | None] = set()
    out = []
    for v in found:
        if v.field not in seen:
            seen.add(v.field)
            out.append(v)
    return out
