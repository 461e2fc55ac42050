"""Policy lint: warnings about agreements that are valid but incomplete, infeasible, about to
lapse or untidy. Codes SLG0510 and up, in the SLG05xx group of `slang.load`'s own warnings.

    from slang.lint import check_model
    diagnostics = check_model(model, as_of=as_of, start=Path(first_path))

`check_model` is what `slang check` shows: the model's own diagnostics and the lint's, with the
configuration found from `start` applied and inline suppressions honoured. The parts are
public too: `lint` runs the rules, `load_config` finds and reads the configuration,
`apply_suppressions` honours `# slang: ignore[SLGxxxx] reason` comments.
"""

from __future__ import annotations

import datetime as dt
import gc
from pathlib import Path

from slang.diagnostics import Diagnostic, sorted_diagnostics
from slang.lint import completeness, feasibility, hygiene, lifecycle
from slang.lint.config import LintConfig, find_config, load_config
from slang.lint.rules import CLOCK_CODES, CONFIGURABLE, LOAD_WARNINGS, RULES, Check, Context, Rule
from slang.lint.suppress import apply_suppressions
from slang.semantics.model import Model

CHECKS: tuple[Check, ...] = (
    completeness.services_without_agreement,
    completeness.agreed_without_parties,
    feasibility.infeasible_targets,
    lifecycle.expiring,
    lifecycle.overlapping_agreements,
    lifecycle.retired_in_force,
    hygiene.uncapped_credits,
    hygiene.tiers_out_of_order,
    hygiene.objectives_without_credit,
    hygiene.overlapping_exclusions,
)


def findings(model: Model, *, as_of: dt.datetime | None = None) -> list[Diagnostic]:
    """Every rule's warnings, before configuration and suppressions. Rules that need a clock
    (SLG0530, SLG0532) run only with `as_of`."""
    enabled = gc.isenabled()
    gc.disable()  # as in `slang.load`: millions of live objects, nothing cyclic to free
    try:
        ctx = Context.of(model, as_of)
        return sorted_diagnostics(d for check in CHECKS for d in check(ctx))
    finally:
        if enabled:
            gc.enable()


def lint(
    model: Model, *, as_of: dt.datetime | None = None, config: LintConfig | None = None
) -> list[Diagnostic]:
    """The lint warnings of a loaded estate, configured (enabled codes, severities), sorted.

    Not included: the model's own diagnostics (see `check_model`), and suppressions (see
    `apply_suppressions`). On a model with errors the rules see only what resolved, so they may
    miss things or report an agreement as missing; `check_model` runs them only without errors.
    """
    return (config or LintConfig()).apply(findings(model, as_of=as_of))


def check_model(
    model: Model,
    *,
    as_of: dt.datetime | None = None,
    config: LintConfig | None = None,
    start: Path | None = None,
) -> list[Diagnostic]:
    """Everything `slang check` reports for a loaded estate, sorted: the model's diagnostics
    and, when it has no errors, the lint's; then inline suppressions, then the configuration
    (`config`, else the one found from `start`, a path given on the command line, else none).

    Raises `SlangError` (SLG0020) for a configuration file that cannot be used; its text is
    then in `model.texts`, so rendering the error with them shows the offending line.
    """
    if config is None:
        config = LintConfig() if start is None else load_config(start, texts=model.texts)
    ran = set(LOAD_WARNINGS)
    found = list(model.diagnostics)
    if model.ok:
        found += findings(model, as_of=as_of)
        ran |= set(RULES)
    if as_of is None:
        ran -= CLOCK_CODES
    return sorted_diagnostics(config.apply(apply_suppressions(model, found, checked=ran)))


__all__ = [
    "CHECKS",
    "CONFIGURABLE",
    "RULES",
    "LintConfig",
    "Rule",
    "apply_suppressions",
    "check_model",
    "find_config",
    "findings",
    "lint",
    "load_config",
]
