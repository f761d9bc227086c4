"""Business calendars: when a team is open, and the business time between two instants.

- `model`: a `Calendar` (weekly hours in an IANA zone, public holidays, closed and extra open
  dates), validated on construction;
- `parse`: the config's `calendars:` sub-language (`mon-fri: 09:00-17:00`, `24/7`,
  `holidays: DE-BE`), reporting every problem through `cscli.config.problems.Problems`;
- `assignment`: which calendar applies to each source (`BusinessHours`);
- the business seconds themselves are a polars expression: `cscli.engine.polars.business_time`.
"""
