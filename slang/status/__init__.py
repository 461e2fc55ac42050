"""Early warning: the running period of every agreement, its forecast and burn-rate alerts."""

from slang.status.build import (
    DEFAULT_FAIL_LEVEL,
    FAIL_LEVELS,
    ObjectiveStatus,
    StatusReport,
    status,
)
from slang.status.render import RENDERERS, render_json, render_markdown, render_text, to_dict

__all__ = [
    "DEFAULT_FAIL_LEVEL", "FAIL_LEVELS", "RENDERERS", "ObjectiveStatus", "StatusReport",
    "render_json", "render_markdown", "render_text", "status", "to_dict",
]
