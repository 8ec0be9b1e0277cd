//! Raw SQL that PostgreSQL plans once per connection.
//!
//! diesel never caches a `sql_query` as a prepared statement (it cannot know
//! the text is fixed), so PostgreSQL parses, analyses and plans it on every
//! call. For the short queries of the hot paths planning costs as much as
//! running: 0.7 ms of planning against 0.6 ms of execution for a page of a
//! customer's reports on a year of history (`scripts/bench-growth.sh`), and
//! about half of PostgreSQL's CPU per order for the fenced ledger write.
//!
//! [`prepared`] takes the same `$n` text and binds and loads the same
//! `QueryableByName` rows as `sql_query`, but lets diesel's per-connection
//! statement cache keep it, keyed by its text. The text must be `'static`
//! so the cache stays bounded: one entry per query in the source, never
//! one per formatted string.

use diesel::connection::Connection;
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgConnection};
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::query_dsl::RunQueryDsl;
use diesel::result::Error;
use diesel::sql_types::{SingleValue, Untyped};
use diesel::QueryResult;

/// A raw query with `$1`, `$2`, … placeholders (each may appear several
/// times) and its binds, in placeholder order.
#[must_use = "a query does nothing until it is run"]
pub struct Prepared<'a> {
    sql: &'static str,
    binds: Vec<Box<dyn QueryFragment<Pg> + Send + 'a>>,
}

/// Starts a query; add its binds with [`Prepared::bind`].
pub fn prepared(sql: &'static str) -> Prepared<'static> {
    Prepared {
        sql,
        binds: Vec::new(),
    }
}

impl<'a> Prepared<'a> {
    /// Binds the next placeholder (`$1` first) as SQL type `ST`.
    pub fn bind<'b, ST, V>(self, value: V) -> Prepared<'b>
    where
        'a: 'b,
        ST: SingleValue,
        V: AsExpression<ST>,
        V::Expression: QueryFragment<Pg> + Send + 'b,
    {
        // Covariant in the lifetime: the boxes move as they are, no copy
        // per bind (the ledger write binds eleven values per order).
        let mut binds: Vec<Box<dyn QueryFragment<Pg> + Send + 'b>> = self.binds;
        binds.push(Box::new(value.as_expression()));
        Prepared {
            sql: self.sql,
            binds,
        }
    }
}

/// The text split at its placeholders: `("SELECT ", Some(0))` for the
/// text before `$1`, then the rest. `None` ends the text.
fn pieces(sql: &str) -> impl Iterator<Item = (&str, Option<usize>)> {
    let mut rest = sql;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let mut from = 0;
        while let Some(at) = rest[from..].find('$').map(|i| i + from) {
            let digits = rest[at + 1..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            if digits == 0 {
                from = at + 1;
                continue;
            }
            let n: usize = rest[at + 1..at + 1 + digits].parse().ok()?;
            let before = &rest[..at];
            rest = &rest[at + 1 + digits..];
            return Some((before, Some(n)));
        }
        done = true;
        Some((rest, None))
    })
}

impl QueryFragment<Pg> for Prepared<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // Every placeholder becomes a fresh bind of its value: `$2` used
        // three times is sent three times, which PostgreSQL does not mind.
        for (text, placeholder) in pieces(self.sql) {
            out.push_sql(text);
            if let Some(n) = placeholder {
                let bind = n
                    .checked_sub(1)
                    .and_then(|i| self.binds.get(i))
                    .ok_or_else(|| {
                        Error::QueryBuilderError(
                            format!("${n} has no bind ({} bound)", self.binds.len()).into(),
                        )
                    })?;
                bind.walk_ast(out.reborrow())?;
            }
        }
        Ok(())
    }
}

impl QueryId for Prepared<'_> {
    type QueryId = ();
    // Keyed by its text in the statement cache.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Prepared<'_> {
    type SqlType = Untyped;
}

impl<Conn> RunQueryDsl<Conn> for Prepared<'_> {}

/// Runs `query` with its prepared statements planned once per connection
/// (`SET LOCAL plan_cache_mode = force_generic_plan`, in a transaction).
///
/// PostgreSQL keeps a custom plan per call while it estimates a generic plan
/// to cost more, and for a `LIMIT $n` (assumed to take 10 % of the rows) or
/// a time range between two binds (assumed 0.5 % of the table) it always
/// does, so such a statement is planned on every call although the plan
/// never changes: for the runs list 0.5 ms of planning against 0.2 ms of
/// execution, for the console's day 1.8 ms against 1.2 ms, on a year of
/// history (`scripts/bench-growth.sh`). Only for statements whose plan does
/// not depend on the values bound: a generic plan of `reported_at >= $1`
/// scans the whole ledger. The two extra statements (`BEGIN`, `SET LOCAL`;
/// `COMMIT`) cost far less than the planning they save.
pub fn generic_plan<T>(
    conn: &mut PgConnection,
    query: impl FnOnce(&mut PgConnection) -> QueryResult<T>,
) -> QueryResult<T> {
    conn.transaction(|c| {
        diesel::sql_query("SET LOCAL plan_cache_mode = force_generic_plan").execute(c)?;
        query(c)
    })
}

#[cfg(test)]
mod tests {
    use super::pieces;

    #[test]
    fn placeholders_split_the_text_in_order() {
        let got: Vec<_> = pieces("SELECT $1, $12 || '$' FROM t WHERE a = $1").collect();
        assert_eq!(
            got,
            vec![
                ("SELECT ", Some(1)),
                (", ", Some(12)),
                (" || '$' FROM t WHERE a = ", Some(1)),
                ("", None),
            ]
        );
        assert_eq!(
            pieces("SELECT 1").collect::<Vec<_>>(),
            vec![("SELECT 1", None)]
        );
    }
}
