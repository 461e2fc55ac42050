"""Short titles of the diagnostic codes, for outputs that describe a code without the docs.

SARIF viewers (GitHub code scanning among them) show a rule's short description next to every
finding, and the docs are not part of the installed package, so the titles live here as data.
They are the `### SLGxxxx: title` headings of docs/errors.md, word for word; a test compares the
two, so adding a code to the docs without adding it here (or the reverse) fails the suite.
"""

from __future__ import annotations

import os
import re

# Where slang's documentation is published, for tools that link a finding to its explanation
# (the SARIF `helpUri`, `informationUri` need absolute URLs). The project has no public address
# yet, so none is invented: set SLANG_DOCS_URL to the web address of the repository's tree
# (the folder holding docs/), e.g. https://git.example.com/slang/blob/main, to get the links.
DOCS_URL_VARIABLE = "SLANG_DOCS_URL"


def home_url() -> str | None:
    return os.environ.get(DOCS_URL_VARIABLE, "").rstrip("/") or None

CODE_TITLES: dict[str, str] = {
    "SLG0001": "File is not readable UTF-8 text",
    "SLG0002": "No such file or directory",
    "SLG0003": "No policy files in a directory",
    "SLG0004": "Invalid command-line value",
    "SLG0010": "Invalid period selection",
    "SLG0011": "Unknown git revision",
    "SLG0012": "Path not in the revision",
    "SLG0013": "Malformed `--set` edit",
    "SLG0014": "Unknown agreement or objective in `--set`",
    "SLG0101": "Syntax error",
    "SLG0102": "Impossible date, time or timestamp",
    "SLG0103": "Timestamp without a time zone",
    "SLG0104": "Unexpected character or unterminated string",
    "SLG0201": "Name declared twice",
    "SLG0202": "Unknown name",
    "SLG0203": "Unknown service",
    "SLG0204": "Imported file does not exist",
    "SLG0205": "Import cycle",
    "SLG0206": "Import outside the policy root",
    "SLG0207": "Unknown standard library module",
    "SLG0208": "Name of the wrong kind",
    "SLG0209": "Column of another source",
    "SLG0301": "Type or unit mismatch",
    "SLG0302": "Value out of range",
    "SLG0303": "Not a duration",
    "SLG0304": "Bad currency or amount",
    "SLG0305": "Unknown unit",
    "SLG0306": "Condition is not true or false",
    "SLG0307": "`where` inside a condition",
    "SLG0308": "Comparison with null",
    "SLG0310": "Expected a source, column or calendar name",
    "SLG0401": "Service dependency cycle",
    "SLG0402": "Range ends before it starts",
    "SLG0403": "Unknown time zone",
    "SLG0404": "Overlapping hours",
    "SLG0405": "Empty or backwards window",
    "SLG0406": "Credit tier can never apply",
    "SLG0407": "Agreement without objectives",
    "SLG0408": "Agreement missing a required attribute",
    "SLG0409": "Objective without indicator or target",
    "SLG0410": "Attribute given twice",
    "SLG0411": "Unknown status",
    "SLG0412": "Invalid period",
    "SLG0413": "Unknown indicator or function",
    "SLG0414": "Wrong arguments",
    "SLG0415": "Invalid named argument",
    "SLG0416": "Credits on a rolling period",
    "SLG0417": "Unknown notification event",
    "SLG0418": "Invalid review interval",
    "SLG0419": "Unknown timestamp form",
    "SLG0420": "Attribute of the other source kind",
    "SLG0421": "Wrong kind of source",
    "SLG0422": "Ratio over two sources",
    "SLG0423": "Unknown exclusion mode",
    "SLG0430": "Unknown burn-rate severity",
    "SLG0431": "Invalid burn-rate alert",
    "SLG0440": "Invalid Prometheus query",
    "SLG0441": "Incomplete prometheus block",
    "SLG0442": "Unknown query placeholder",
    "SLG0443": "Prometheus queries ignore the service key",
    "SLG0444": "Invalid label for exported rules",
    "SLG0445": "Conflicting Prometheus queries",
    "SLG0450": "Unknown holiday region",
    "SLG0451": "Holiday data package missing",
    "SLG1001": "Input is not valid YAML",
    "SLG1002": "Document does not match its schema",
    "SLG1003": "Not a document slang imports",
    "SLG1004": "No slang equivalent",
    "SLG1005": "Imported approximately",
    "SLG1006": "Reference not among the inputs",
    "SLG1007": "Name changed on import",
    "SLG1008": "Object not used by any SLO",
    "SLG1009": "Query cannot give burn-rate rules",
    "SLG1010": "Nothing to import",
    "SLG1030": "Objective without a Prometheus query",
    "SLG1031": "Objective cannot give burn-rate rules",
    "SLG0501": "Draft agreement with notifications",
    "SLG0502": "Review overdue or never recorded",
    "SLG0503": "Credits without a fee",
    "SLG0601": "Malformed `--data` option",
    "SLG0602": "Invalid bindings file",
    "SLG0603": "Unknown or mixed data format",
    "SLG0604": "Data path missing, empty or unreadable",
    "SLG0605": "Column missing from the data",
    "SLG0606": "Column of the wrong type",
    "SLG0607": "Naive timestamps in the data",
    "SLG0608": "Data will not fit in memory",
    "SLG0609": "No data bound for a source",
    "SLG0610": "Invalid memory limit",
    "SLG0611": "Cannot write spill files",
    "SLG0701": "Expression cannot be evaluated",
    "SLG0720": "Unknown agreement for diagnose",
    "SLG0721": "Unknown objective for diagnose",
    "SLG0722": "Unknown --by column",
    "SLG0723": "Period selection is not one period",
    "SLG0724": "Column cannot be grouped",
    "SLG0801": "Test outside a test file",
    "SLG0802": "Test without `as_of`",
    "SLG0803": "Unknown agreement or objective in an expectation",
    "SLG0804": "Period label that does not fit the agreement",
    "SLG0805": "Malformed inline table",
    "SLG0806": "Inline column of mixed or impossible values",
    "SLG0807": "Inline table that does not fit its source",
    "SLG0808": "Fixture file missing or unusable",
    "SLG0809": "Table given twice in a test",
    "SLG0810": "Test name used twice",
    "SLG0811": "Unknown expected status",
    "SLG0812": "Expectation that does not fit what it names",
    "SLG0813": "Test without data for a table it reads",
    "SLG0901": "Evidence bundle cannot be written",
    "SLG0910": "Not an evidence bundle",
    "SLG0911": "Damaged evidence manifest",
    "SLG0912": "Evidence bundle file missing",
    "SLG0920": "Ledger cannot be read or written",
    "SLG0921": "Ledger does not verify",
    "SLG0710": "No agreement for the customer",
    "SLG0020": "Invalid lint configuration",
    "SLG0510": "Service without an agreed agreement",
    "SLG0511": "Agreed agreement without a customer",
    "SLG0512": "Agreed agreement without a provider",
    "SLG0513": "Agreed agreement without notifications",
    "SLG0514": "Agreed agreement without a review cycle",
    "SLG0520": "Availability target above what the dependencies support",
    "SLG0530": "Agreement expiring soon",
    "SLG0531": "Overlapping agreed agreements",
    "SLG0532": "Retired agreement still in force",
    "SLG0540": "Credits can exceed the fee",
    "SLG0541": "Credit tiers out of order",
    "SLG0542": "Objective without a credit",
    "SLG0543": "Overlapping exclusions",
    "SLG0550": "Unused or unexplained suppression",
    "SLG1101": "SQL engine not installed",
    "SLG1102": "Not computable exactly in SQL",
    "SLG1103": "SQL engine failed",
    "SLG1104": "Unknown SQL dialect",
}


def title(code: str) -> str:
    """The code's short title; a code without one (a bug the docs test catches) shows itself."""
    return CODE_TITLES.get(code, code)


def anchor(code: str) -> str:
    """The fragment GitHub gives the code's heading in docs/errors.md.

    GitHub lowercases a heading, drops punctuation other than `-` and `_`, and turns spaces
    into `-`: `### SLG0601: Malformed `--data` option` becomes `slg0601-malformed---data-option`.
    """
    heading = f"{code}: {title(code)}" if code in CODE_TITLES else code
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def help_uri(code: str) -> str | None:
    """The absolute URL of the code's section in docs/errors.md, when the docs have one."""
    home = home_url()
    return f"{home}/docs/errors.md#{anchor(code)}" if home else None
