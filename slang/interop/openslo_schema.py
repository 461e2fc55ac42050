"""What a schema violation of an OpenSLO document means, in words a reader can act on.

jsonschema's own messages quote regular expressions and whole objects (`{'serviceRef': ...} is
not valid under any of the given schemas`). The schemas slang ships use a few shapes on purpose
(exactly one of several fields, names, duration shorthand, fields that are not allowed), so each
shape gets a sentence, and a field that is not allowed is pointed at itself rather than at its
parent. v2alpha renamed fields of v1; a v1 field in a v2alpha document gets its new name.
"""

from __future__ import annotations

from typing import Any

import jsonschema

from slang.interop.common import openslo_schema

V2ALPHA = "openslo.com/v2alpha"

# v1 fields that v2alpha renamed or removed, and what to write instead.
V2ALPHA_RENAMED = {
    "displayName": "v2alpha metadata has no `displayName` (Kubernetes metadata has none); "
                   "an annotation can carry it",
    "indicator": "v2alpha calls it `sli`",
    "indicatorRef": "v2alpha calls it `sliRef`",
    "metricSource": "a v2alpha metric names `dataSourceRef` (or an inline `dataSourceSpec`) "
                    "and the query's `spec` directly, without `metricSource`",
}


def describe(error: jsonschema.ValidationError, api: str) -> tuple[tuple[Any, ...], str]:
    """(path of the offending field, message) for one validation error."""
    path = tuple(error.absolute_path)
    v2alpha = api == V2ALPHA
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {})
        extras = sorted((k for k in error.instance if k not in allowed), key=str)
        if extras:
            extra = extras[0]
            note = V2ALPHA_RENAMED.get(str(extra)) if v2alpha else None
            return (*path, extra), (f"`{extra}` is not a field here"
                                    + (f": {note}" if note else ""))
    if error.validator == "pattern":
        return path, _pattern_message(error, v2alpha)
    if error.validator == "oneOf" and _all_required(error.validator_value):
        forms = ["`" + "` and `".join(b["required"]) + "`" for b in error.validator_value]
        given = [f for f, b in zip(forms, error.validator_value, strict=True)
                 if all(k in error.instance for k in b["required"])]
        if len(given) > 1:
            return path, f"only one of {', '.join(given)} may be given"
        return path, "needs exactly one of " + "; ".join(forms)
    if error.validator == "not" and _all_required([error.validator_value]):
        keys = error.validator_value["required"]
        return path, "`" + "` and `".join(keys) + "` cannot both be given"
    if error.validator == "contains" and path and path[-1] == "objectives":
        return path, ("neither the SLO (`sli`, `sliRef`) nor any of its objectives names "
                      "the SLI it measures")
    message = str(error.message)
    shown = repr(error.instance)
    if len(shown) > 60:
        message = message.replace(shown, "the value")
    return path, message


def _pattern_message(error: jsonschema.ValidationError, v2alpha: bool) -> str:
    defs = openslo_schema(V2ALPHA if v2alpha else "openslo/v1")["$defs"]
    if error.validator_value == defs["name"]["pattern"]:
        if v2alpha:
            return (f"{error.instance!r} is not an OpenSLO v2alpha name (a DNS label: lower-case "
                    "letters, digits and `-`, starting and ending with a letter or digit)")
        return (f"{error.instance!r} is not an OpenSLO name (letters, digits, `-`, `.`; starting "
                "and ending with a letter or digit)")
    if v2alpha and "mhdw" in str(error.validator_value):
        return (f"{error.instance!r} is not a v2alpha duration: a number and `m`, `h`, `d` or "
                "`w` (v2alpha durations have no months, quarters or years)")
    return str(error.message)


def _all_required(branches: Any) -> bool:
    return isinstance(branches, list) and all(
        isinstance(b, dict) and isinstance(b.get("required"), list) for b in branches)
