"""User SQL: what it may say, checked before polars sees a character of it.

Every SQL text a user writes (`columns:` derivations, `filter:`, KPI `sql:`, ratio predicates,
`checks[].where`, `feedback --where`) is an expression over the rows of one source. It may
name that source's columns and call scalar and aggregate functions; nothing else. polars'
`sql_expr` would otherwise run a subquery while it parses (`agent IN (SELECT x FROM
read_csv('/etc/passwd'))` reads the file and echoes its first line in the error), and a
10,000-term chain overflows its stack and kills the process. So the text is tokenised here,
by a linear scan that cannot recurse, and refused when it

- is longer than `MAX_SQL_CHARS`, has more than `MAX_SQL_OPERATORS` operators or nests
  parentheses deeper than `MAX_SQL_DEPTH`;
- contains a comment, a `;`, a placeholder (`$1`, `?`) or an unterminated string;
- says SELECT, WITH, VALUES, TABLE, UNION, JOIN, EXISTS, OVER… (`SUBQUERY_WORDS`), or FROM
  other than inside EXTRACT/TRIM/SUBSTRING/POSITION/OVERLAY or in IS [NOT] DISTINCT FROM;
- calls a function that is not in `FUNCTIONS` (read_csv, read_parquet, unnest, … are not).

Where the scanner and polars' parser could disagree (a dialect's string escapes, say), the
scanner sees more code, never less, so a doubt is a refusal. Only then does polars parse the
text, and `check_columns` compares the columns it names with those the source has. Problems
carry the 0-based offset of the offending token so that config errors can point at it.

The same tokens give the columns a text names (`column_names`), engine-neutrally: what a KPI
needs is known before any engine parses its SQL.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cscli.suggest import did_you_mean

if TYPE_CHECKING:
    import polars as pl

#: the longest SQL text accepted, in characters
MAX_SQL_CHARS = 5_000
#: the most operators (AND, OR, +, ||, =, LIKE, WHEN, …) in one text; polars' expression tree
#: overflows the stack at around a thousand chained ones
MAX_SQL_OPERATORS = 250
#: the deepest nesting of parentheses; polars' parser gives up at 50
MAX_SQL_DEPTH = 32

#: scalar and aggregate functions polars' SQL knows (lower case)
FUNCTIONS: frozenset[str] = frozenset(
    """
    abs acos acosd asin asind atan atan2 atan2d atand cbrt ceil ceiling cos cosd cot cotd
    degrees div erf exp floor ln log log10 log1p log2 mod pi pow power radians round sign sin
    sind sqrt tan tand trunc truncate
    date date_part date_trunc strftime strptime timestamp now current_date current_time
    current_timestamp localtime localtimestamp dayofmonth dayofweek dayofyear quarter year
    month day hour minute second week
    bit_length char_length character_length concat concat_ws ends_with initcap left length
    lower ltrim normalize octet_length regexp_like regexp_replace replace reverse right rtrim
    split_part starts_with strpos substr substring upper trim lpad rpad
    nullif coalesce ifnull greatest least if
    count sum min max avg median stddev stddev_samp stdev stdev_samp variance var var_samp
    first last quantile_cont quantile_disc approx_quantile corr covar covar_pop covar_samp
    string_agg array_agg bit_and bit_or bit_xor bit_count
    array_contains array_get array_length array_lower array_mean array_reverse array_sum
    array_to_string array_unique array_upper
    """.split()  # noqa: SIM905
)
#: syntax words that may be followed by "(" without being a function call
_SYNTAX = frozenset(
    """
    and or not in is like ilike between cast try_cast extract trim substring position overlay
    any all some case when then else end distinct interval as null array filter
    """.split()  # noqa: SIM905
)
#: functions whose parentheses may hold FROM (EXTRACT(epoch FROM x), TRIM(BOTH 'x' FROM y))
_FROM_FUNCTIONS = frozenset({"extract", "trim", "substring", "substr", "position", "overlay"})
#: words that start or join a query, or read from somewhere other than the row
SUBQUERY_WORDS = frozenset(
    """
    select with values table union intersect except join exists lateral over window
    insert update delete create drop alter copy attach detach pragma explain
    """.split()  # noqa: SIM905
)
_OPERATOR_WORDS = frozenset({"and", "or", "like", "ilike", "is", "between", "when", "in"})
_OPERATOR_SYMBOLS = frozenset(
    {"+", "-", "*", "/", "%", "||", "=", "==", "<>", "!=", "<", ">", "<=", ">=", "::"}
)

_TOKENS = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>--|/\*)
  | (?P<str>'(?:[^']|'')*')
  | (?P<qid>"(?:[^"]|"")*"|`[^`]*`)
  | (?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<word>[^\W\d]\w*)
  | (?P<op>::|<=|>=|<>|!=|==|\|\||->>|->|[-+*/%<>=(),.\[\]:~&|^!])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class SqlProblem:
    """Why a SQL text is refused; `offset` is 0-based, into the text."""

    offset: int
    message: str
    #: polars could not parse the (safe) text, as opposed to cscli refusing it
    unparsable: bool = False


class SqlError(ValueError):
    """A SQL text that cscli refuses to hand to polars."""

    def __init__(self, problem: SqlProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    offset: int


def _tokens(text: str) -> Iterator[_Token | SqlProblem]:
    pos = 0
    while pos < len(text):
        m = _TOKENS.match(text, pos)
        if m is None:
            ch = text[pos]
            if ch in "'\"`":
                yield SqlProblem(pos, f"unterminated {'string' if ch == chr(39) else 'name'}")
            elif ch in "$?":
                yield SqlProblem(pos, "placeholders ($1, ?) are not supported")
            elif ch == ";":
                yield SqlProblem(pos, "';' is not allowed: give one expression")
            else:
                yield SqlProblem(pos, f"unexpected character {ch!r}")
            return
        kind = m.lastgroup or ""
        if kind == "comment":
            yield SqlProblem(pos, "comments are not allowed in SQL expressions")
            return
        if kind != "ws":
            yield _Token(kind, m.group(), pos)
        pos = m.end()


def check_sql(text: str) -> SqlProblem | None:
    """The first reason to refuse `text` (size, subqueries, functions), or None.

    Columns are not checked here (see `check_columns`): only what makes parsing unsafe.
    """
    if len(text) > MAX_SQL_CHARS:
        return SqlProblem(
            MAX_SQL_CHARS, f"SQL is {len(text):,} characters long; the limit is {MAX_SQL_CHARS:,}"
        )
    if not text.strip():
        return SqlProblem(0, "empty SQL expression")
    tokens: list[_Token] = []
    for t in _tokens(text):
        if isinstance(t, SqlProblem):
            return t
        tokens.append(t)
    operators = 0
    #: per open parenthesis: may FROM appear directly inside it?
    parens: list[bool] = []
    for i, tok in enumerate(tokens):
        before = tokens[i - 1] if i else None
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        word = tok.text.lower() if tok.kind == "word" else None
        if word in _OPERATOR_WORDS or (tok.kind == "op" and tok.text in _OPERATOR_SYMBOLS):
            operators += 1
            if operators > MAX_SQL_OPERATORS:
                return SqlProblem(
                    tok.offset,
                    f"SQL has more than {MAX_SQL_OPERATORS} operators; split the expression "
                    "or derive a column in a file first",
                )
        if tok.text == "(":
            parens.append(before is not None and before.text.lower() in _FROM_FUNCTIONS)
            if len(parens) > MAX_SQL_DEPTH:
                return SqlProblem(
                    tok.offset, f"parentheses nest deeper than {MAX_SQL_DEPTH} levels"
                )
        elif tok.text == ")" and parens:
            parens.pop()
        if word in SUBQUERY_WORDS:
            return SqlProblem(
                tok.offset,
                f"{tok.text.upper()} is not allowed: SQL here is an expression over the "
                "source's columns (no subqueries, no tables)",
            )
        if word == "from":
            distinct = (
                before is not None
                and before.text.lower() == "distinct"
                and i >= 2
                and tokens[i - 2].text.lower() in ("is", "not")
            )
            if not distinct and not (parens and parens[-1]):
                return SqlProblem(
                    tok.offset,
                    "FROM is not allowed: SQL here is an expression over the source's "
                    "columns (no subqueries, no tables)",
                )
        called = after is not None and after.text == "("
        if called and tok.kind in ("word", "qid"):
            name = _name(tok)
            lowered = name.lower()
            is_type = before is not None and before.text.lower() in ("as", "::")
            if tok.kind == "word" and (lowered in _SYNTAX or is_type):
                continue
            if lowered not in FUNCTIONS:
                return SqlProblem(
                    tok.offset,
                    f"function {name!r} is not allowed: use scalar or aggregate functions "
                    "(no table functions such as read_csv)",
                )
    return None


def _name(tok: _Token) -> str:
    if tok.kind == "qid":
        quote = tok.text[0]
        return tok.text[1:-1].replace(quote * 2, quote)
    return tok.text


def name_offset(text: str, name: str) -> int:
    """Offset of the first token naming column `name` in `text` (0 when none does)."""
    for t in _tokens(text):
        if isinstance(t, SqlProblem):
            break
        if t.kind in ("word", "qid") and _name(t) == name:
            return t.offset
    return 0


#: words that are SQL syntax, never a column, wherever they stand
_KEYWORDS = _SYNTAX | frozenset(
    """
    true false unknown symmetric escape similar to both leading trailing for from where order
    by asc desc nulls first last current_date current_time
    current_timestamp localtime localtimestamp
    """.split()  # noqa: SIM905
)
#: type names after AS or `::`, and the words that start a typed literal (`DATE '2026-01-01'`)
_TYPE_WORDS = frozenset(
    """
    int int2 int4 int8 integer bigint smallint tinyint uint uint8 uint16 uint32 uint64 double
    precision float float4 float8 real decimal numeric varchar char character text string
    bool boolean date time timestamp timestamptz datetime interval with without zone bytea
    binary blob unsigned
    """.split()  # noqa: SIM905
)


def column_names(text: str) -> set[str]:
    """The columns `text` names, read from its tokens (no parser, no engine): every name that
    is not a keyword, a function called, a type, a typed literal's type, an EXTRACT field or a
    field after `.`. For a text `check_sql` accepts, the same set polars' parser finds."""
    tokens = [t for t in _tokens(text) if isinstance(t, _Token)]
    names: set[str] = set()
    for i, tok in enumerate(tokens):
        if tok.kind not in ("word", "qid"):
            continue
        before = tokens[i - 1] if i else None
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        if after is not None and after.text == "(":
            continue  # a function or a syntax word: extract(, cast(, filter(
        if before is not None and before.text == ".":
            continue  # a struct field
        if tok.kind == "word":
            word = tok.text.lower()
            if word in _KEYWORDS:
                continue
            literal = after is not None and after.kind == "str"  # DATE '2026-01-01'
            if word in _TYPE_WORDS and (literal or _after_type(tokens, i)):
                continue
            if i >= 2 and before and before.text == "(" and tokens[i - 2].text.lower() == "extract":
                continue  # EXTRACT(epoch FROM x)
        names.add(_name(tok))
    return names


def _after_type(tokens: list[_Token], i: int) -> bool:
    """Does token `i` continue a type named after AS or `::` (`AS double precision`)?"""
    j = i - 1
    while j >= 0 and tokens[j].kind == "word" and tokens[j].text.lower() in _TYPE_WORDS:
        j -= 1
    return j >= 0 and tokens[j].text.lower() in ("as", "::")


def parse(text: str) -> pl.Expr:
    """`text` as a polars expression, after `check_sql`; raises SqlError."""
    import polars as pl

    problem = check_sql(text)
    if problem is not None:
        raise SqlError(problem)
    try:
        return pl.sql_expr(text)
    except Exception as e:  # polars raises several types for SQL it cannot parse
        raise SqlError(SqlProblem(0, f"cannot parse: {_first_line(e)}", unparsable=True)) from None


def check_columns(
    text: str, columns: Collection[str], *, what: str = "the source"
) -> SqlProblem | None:
    """`check_sql`, then: does `text` parse and name only `columns`?"""
    try:
        expr = parse(text)
    except SqlError as e:
        return e.problem
    for used in expr.meta.root_names():
        if used not in columns:
            hint = did_you_mean(used, sorted(columns))
            return SqlProblem(
                name_offset(text, used), f"unknown column {used!r}{hint}: not a column of {what}"
            )
    return None


def _first_line(e: Exception) -> str:
    lines = str(e).strip().splitlines()
    return lines[0] if lines else type(e).__name__


def reads_data(text: str) -> SqlProblem | None:
    """For a text that may be an export's column name rather than SQL (`columns:` values, where
    "From" or "Time (s)" are fine names): a subquery or a table function call, else None.

    The text is checked in full by `check_sql` when it is used as SQL; this finds, at config
    load, what no column name needs.
    """
    if len(text) > MAX_SQL_CHARS:
        return check_sql(text)
    tokens: list[_Token] = []
    for t in _tokens(text):
        if isinstance(t, SqlProblem):
            break
        tokens.append(t)
    for i, tok in enumerate(tokens):
        word = tok.text.lower() if tok.kind == "word" else None
        if word == "select":
            return SqlProblem(
                tok.offset,
                "SELECT is not allowed: SQL here is an expression over the source's columns "
                "(no subqueries, no tables)",
            )
        called = i + 1 < len(tokens) and tokens[i + 1].text == "("
        if called and tok.kind in ("word", "qid") and _name(tok).lower() not in FUNCTIONS:
            lowered = _name(tok).lower()
            if lowered.startswith(("read_", "scan_")) or lowered in ("unnest", "generate_series"):
                return SqlProblem(
                    tok.offset, f"function {_name(tok)!r} is not allowed: it reads a table"
                )
    return None
