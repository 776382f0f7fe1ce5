//! MLflow's `filter` and `order_by` for experiments, registered models and logged models:
//! clauses joined by `AND`, each an attribute or `tags.<key>` (the key bare, in backticks or
//! in double quotes), a comparator, and a quoted string or a number. Attributes by kind:
//!
//! | kind | filter | order_by | default order |
//! |---|---|---|---|
//! | experiments | name, experiment_id, creation_time, last_update_time, tags | name, experiment_id, creation_time, last_update_time | creation_time DESC, experiment_id ASC |
//! | registered models | name, tags | name, creation_timestamp, last_updated_timestamp | name ASC |
//! | logged models | name, tags | name, creation_timestamp, last_updated_timestamp | creation_timestamp DESC |
//!
//! | model versions | name (`name = '<model>'` required), tags | – | – |
//!
//! Text compares with `=`, `!=`, `LIKE` (case-sensitive), `ILIKE`; numbers with `=`, `!=`,
//! `<`, `<=`, `>`, `>=`; tags also with `IS NULL` / `IS NOT NULL`, and a tag's `!=` holds when
//! the tag is absent (MLflow 3 clients send `` tags.`mlflow.prompt.is_prompt` != 'true' `` to
//! leave prompts out of registry searches).

use std::cmp::Ordering;
use std::future::Future;

use serde_json::Value;
use verity_store::PageRequest;
use verity_store::model::{KeyValue, Page};

use super::MlflowError;

/// Longest filter accepted.
const MAX_FILTER_BYTES: usize = 10_000;

/// What is searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `experiments/search`.
    Experiments,
    /// `registered-models/search`.
    RegisteredModels,
    /// `logged-models/search`.
    LoggedModels,
    /// `model-versions/search` (`name = '<model>'` is required).
    ModelVersions,
}

impl Kind {
    fn plural(self) -> &'static str {
        match self {
            Kind::Experiments => "experiments",
            Kind::RegisteredModels => "registered models",
            Kind::LoggedModels => "logged models",
            Kind::ModelVersions => "model versions",
        }
    }

    /// The attribute a name means for this kind, if it has it.
    fn attribute(self, name: &str, for_order: bool) -> Option<Attr> {
        match (self, name) {
            (_, "name") => Some(Attr::Name),
            (Kind::Experiments, "experiment_id") => Some(Attr::Id),
            (Kind::Experiments, "creation_time") => Some(Attr::Created),
            (Kind::Experiments, "last_update_time") => Some(Attr::Updated),
            (Kind::RegisteredModels | Kind::LoggedModels, "creation_timestamp") if for_order => {
                Some(Attr::Created)
            }
            (Kind::RegisteredModels | Kind::LoggedModels, "last_updated_timestamp")
                if for_order =>
            {
                Some(Attr::Updated)
            }
            _ => None,
        }
    }

    fn attributes(self, for_order: bool) -> &'static str {
        match (self, for_order) {
            (Kind::Experiments, _) => "name, experiment_id, creation_time, last_update_time",
            (_, false) => "name",
            (_, true) => "name, creation_timestamp, last_updated_timestamp",
        }
    }
}

/// What a clause or an ordering reads.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Attr {
    Name,
    Id,
    Created,
    Updated,
    Tag(String),
}

/// One searched object, as the filter sees it.
#[derive(Debug, Clone, Copy)]
pub struct Entity<'a> {
    /// Numeric id.
    pub id: i64,
    /// Name.
    pub name: &'a str,
    /// Creation time (ms).
    pub created: i64,
    /// Last update time (ms).
    pub updated: i64,
    /// Tags.
    pub tags: &'a [KeyValue],
}

impl Entity<'_> {
    fn text(&self, attr: &Attr) -> Option<&str> {
        match attr {
            Attr::Name => Some(self.name),
            Attr::Tag(key) => self
                .tags
                .iter()
                .find(|t| &t.key == key)
                .map(|t| t.value.as_str()),
            _ => None,
        }
    }

    fn number(&self, attr: &Attr) -> Option<i64> {
        match attr {
            Attr::Id => Some(self.id),
            Attr::Created => Some(self.created),
            Attr::Updated => Some(self.updated),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
    ILike,
    IsNull,
    IsNotNull,
}

#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Text(String),
    Number(i64),
    Nothing,
}

#[derive(Debug, Clone)]
struct Clause {
    attr: Attr,
    op: Op,
    value: Literal,
}

/// A parsed filter: every clause must hold.
#[derive(Debug, Clone, Default)]
pub struct Filter(Vec<Clause>);

/// A parsed `order_by`: attributes with ascending (true) or descending.
#[derive(Debug, Clone)]
pub struct Order(Vec<(Attr, bool)>);

/// SQL LIKE (`%` any run, `_` one character), iteratively: time at most the product of
/// the lengths, no recursion, whatever the pattern.
pub fn like(pattern: &str, text: &str, case_sensitive: bool) -> bool {
    let fold = |s: &str| -> Vec<char> {
        if case_sensitive {
            s.chars().collect()
        } else {
            s.to_lowercase().chars().collect()
        }
    };
    let (p, t) = (fold(pattern), fold(text));
    let (mut pi, mut ti) = (0, 0);
    // The last `%` seen, and where in the text its match currently ends.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '%' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && (p[pi] == '_' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some((star_at, matched_to)) = star {
            pi = star_at + 1;
            ti = matched_to + 1;
            star = Some((star_at, matched_to + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '%')
}

impl Filter {
    /// Whether `e` passes every clause.
    pub fn matches(&self, e: &Entity<'_>) -> bool {
        self.0.iter().all(|c| c.holds(e))
    }

    /// The name of a `name = '<name>'` clause, if there is one.
    pub fn exact_name(&self) -> Option<&str> {
        self.0.iter().find_map(|c| match (&c.attr, c.op, &c.value) {
            (Attr::Name, Op::Eq, Literal::Text(name)) => Some(name.as_str()),
            _ => None,
        })
    }
}

/// The items that pass `filter`, in `order`.
pub fn select<T>(
    items: Vec<T>,
    filter: &Filter,
    order: &Order,
    entity: impl for<'a> Fn(&'a T) -> Entity<'a>,
) -> Vec<T> {
    let mut kept: Vec<T> = items
        .into_iter()
        .filter(|item| filter.matches(&entity(item)))
        .collect();
    kept.sort_by(|a, b| order.compare(&entity(a), &entity(b)));
    kept
}

impl Clause {
    fn holds(&self, e: &Entity<'_>) -> bool {
        match (&self.value, self.op) {
            (Literal::Nothing, Op::IsNull) => e.text(&self.attr).is_none(),
            (Literal::Nothing, _) => e.text(&self.attr).is_some(),
            (Literal::Text(_), Op::Ne)
                if matches!(self.attr, Attr::Tag(_)) && e.text(&self.attr).is_none() =>
            {
                true
            }
            (Literal::Text(want), op) => e.text(&self.attr).is_some_and(|have| match op {
                Op::Eq => have == want,
                Op::Ne => have != want,
                Op::Like => like(want, have, true),
                Op::ILike => like(want, have, false),
                _ => false,
            }),
            (Literal::Number(want), op) => e.number(&self.attr).is_some_and(|have| match op {
                Op::Eq => have == *want,
                Op::Ne => have != *want,
                Op::Lt => have < *want,
                Op::Le => have <= *want,
                Op::Gt => have > *want,
                Op::Ge => have >= *want,
                _ => false,
            }),
        }
    }
}

/// Splits on `AND` (any case, between blanks) outside quotes.
fn clauses(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = vec![String::new()];
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
        } else if matches!(c, '\'' | '"' | '`') {
            quote = Some(c);
        } else if (i == 0 || chars[i - 1].is_whitespace())
            && i + 3 < chars.len()
            && chars[i..i + 3]
                .iter()
                .collect::<String>()
                .eq_ignore_ascii_case("and")
            && chars[i + 3].is_whitespace()
        {
            out.push(String::new());
            i += 4;
            continue;
        }
        if let Some(last) = out.last_mut() {
            last.push(c);
        }
        i += 1;
    }
    out.into_iter().map(|c| c.trim().to_owned()).collect()
}

/// Reads an identifier (`name`, `tags.key`, ``tags.`a key` ``, `tags."a key"`); returns it and
/// the rest.
fn identifier(text: &str) -> Option<(String, bool, &str)> {
    let text = text.trim_start();
    for prefix in ["tags.", "tag."] {
        if let Some(rest) = text.strip_prefix(prefix) {
            if let Some(q) = rest.chars().next().filter(|c| *c == '`' || *c == '"') {
                let end = rest[1..].find(q)? + 1;
                return Some((rest[1..end].to_owned(), true, &rest[end + 1..]));
            }
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || "_.-/:".contains(c)))
                .unwrap_or(rest.len());
            return (end > 0).then(|| (rest[..end].to_owned(), true, &rest[end..]));
        }
    }
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    (end > 0).then(|| (text[..end].to_owned(), false, &text[end..]))
}

fn comparator(text: &str) -> Option<(Op, &str)> {
    let text = text.trim_start();
    let upper = text.to_ascii_uppercase();
    for (word, op) in [
        ("IS NOT NULL", Op::IsNotNull),
        ("IS NULL", Op::IsNull),
        ("ILIKE ", Op::ILike),
        ("LIKE ", Op::Like),
        ("!=", Op::Ne),
        ("<>", Op::Ne),
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("=", Op::Eq),
        ("<", Op::Lt),
        (">", Op::Gt),
    ] {
        if upper.starts_with(word) {
            return Some((op, &text[word.len()..]));
        }
    }
    None
}

fn literal(text: &str) -> Option<Literal> {
    let text = text.trim();
    if text.is_empty() {
        return Some(Literal::Nothing);
    }
    for q in ['\'', '"'] {
        if let Some(inner) = text.strip_prefix(q).and_then(|t| t.strip_suffix(q)) {
            return (!inner.contains(q)).then(|| Literal::Text(inner.to_owned()));
        }
    }
    text.parse().ok().map(Literal::Number)
}

/// Parses a filter for `kind`; an empty one passes everything.
pub fn parse_filter(text: Option<&str>, kind: Kind) -> Result<Filter, MlflowError> {
    let Some(whole) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(Filter::default());
    };
    if whole.len() > MAX_FILTER_BYTES {
        return Err(MlflowError::invalid(format!(
            "a filter is at most {MAX_FILTER_BYTES} bytes; this one is {}",
            whole.len()
        )));
    }
    let bad = |clause: &str, why: String| {
        MlflowError::invalid(format!(
            "invalid filter on {} near '{clause}': {why} (filters are clauses joined by AND \
             on {} or tags.<key>)",
            kind.plural(),
            kind.attributes(false)
        ))
    };
    let mut out = Vec::new();
    for clause in clauses(whole) {
        let (name, is_tag, rest) = identifier(&clause)
            .ok_or_else(|| bad(&clause, "expected an attribute or tags.<key>".into()))?;
        let attr = if is_tag {
            Attr::Tag(name)
        } else {
            kind.attribute(&name, false)
                .ok_or_else(|| bad(&clause, format!("'{name}' is not a searchable attribute")))?
        };
        let (op, rest) = comparator(rest)
            .ok_or_else(|| bad(&clause, "expected a comparator (=, !=, LIKE...)".into()))?;
        let mut value = literal(rest)
            .ok_or_else(|| bad(&clause, "expected a quoted string or a whole number".into()))?;
        if let (Attr::Id, Literal::Text(t)) = (&attr, &value) {
            // MLflow's experiment ids are text: experiment_id = '3'.
            let id = t
                .parse()
                .map_err(|_| bad(&clause, format!("'{t}' is not an experiment id")))?;
            value = Literal::Number(id);
        }
        let numeric = matches!(attr, Attr::Id | Attr::Created | Attr::Updated);
        let fits = match (&value, op) {
            (Literal::Nothing, Op::IsNull | Op::IsNotNull) => is_tag,
            (Literal::Nothing, _) | (_, Op::IsNull | Op::IsNotNull) => false,
            (Literal::Text(_), Op::Eq | Op::Ne | Op::Like | Op::ILike) => !numeric,
            (Literal::Text(_), _) => false,
            (Literal::Number(_), Op::Like | Op::ILike) => false,
            (Literal::Number(_), _) => numeric,
        };
        if !fits {
            return Err(bad(
                &clause,
                "that comparator or value does not apply to this attribute".into(),
            ));
        }
        out.push(Clause { attr, op, value });
    }
    Ok(Filter(out))
}

/// Parses `order_by` (a list of `attribute [ASC|DESC]`, or one string) for `kind`.
pub fn parse_order(value: Option<&Value>, kind: Kind) -> Result<Order, MlflowError> {
    let items: Vec<String> = match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) if s.trim().is_empty() => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| {
                v.as_str().map(str::to_owned).ok_or_else(|| {
                    MlflowError::invalid(format!("order_by entries are text; got {v}"))
                })
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(MlflowError::invalid(format!(
                "order_by must be a list of text; got {other}"
            )));
        }
    };
    let mut order = Vec::new();
    for item in items {
        let mut words = item.split_whitespace();
        let name = words.next().unwrap_or_default();
        let ascending = match words.next().map(str::to_ascii_uppercase).as_deref() {
            None | Some("ASC") => true,
            Some("DESC") => false,
            Some(other) => {
                return Err(MlflowError::invalid(format!(
                    "order_by '{item}': '{other}' is neither ASC nor DESC"
                )));
            }
        };
        let attr = kind
            .attribute(name, true)
            .filter(|_| words.next().is_none());
        let Some(attr) = attr else {
            return Err(MlflowError::invalid(format!(
                "order_by '{item}': {} are ordered by {} (ASC or DESC)",
                kind.plural(),
                kind.attributes(true)
            )));
        };
        order.push((attr, ascending));
    }
    if order.is_empty() {
        order = match kind {
            Kind::Experiments => vec![(Attr::Created, false), (Attr::Id, true)],
            Kind::RegisteredModels => vec![(Attr::Name, true)],
            Kind::LoggedModels | Kind::ModelVersions => vec![(Attr::Created, false)],
        };
    }
    Ok(Order(order))
}

impl Order {
    /// Compares two entities; ties fall back to the id (ascending), so pages are stable.
    pub fn compare(&self, a: &Entity<'_>, b: &Entity<'_>) -> Ordering {
        for (attr, ascending) in &self.0 {
            let ord = match attr {
                Attr::Name => a.name.cmp(b.name),
                Attr::Tag(_) => Ordering::Equal,
                _ => a.number(attr).cmp(&b.number(attr)),
            };
            let ord = if *ascending { ord } else { ord.reverse() };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        a.id.cmp(&b.id)
    }
}

/// Most objects one search reads (all of a project's, then filtered and ordered here).
pub const MAX_SEARCHED: usize = 100_000;

/// Every page of a listing, in the store's pages of 1000, up to [`MAX_SEARCHED`] items.
pub async fn read_all<T, F, Fut>(mut fetch: F) -> Result<Vec<T>, MlflowError>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = verity_store::Result<Page<T>>>,
{
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let found = fetch(PageRequest::new(Some(1000), cursor.as_deref())?).await?;
        all.extend(found.items);
        cursor = found.next_cursor;
        if cursor.is_none() || all.len() >= MAX_SEARCHED {
            return Ok(all);
        }
    }
}

/// A page of `items` from an offset token: the page and the next token.
pub fn offset_page<T>(
    items: Vec<T>,
    max_results: usize,
    token: Option<&str>,
) -> Result<(Vec<T>, Option<String>), MlflowError> {
    let start = match token.filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => t
            .strip_prefix("o")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= items.len())
            .ok_or_else(|| MlflowError::invalid(format!("page_token '{t}' is not valid")))?,
    };
    let mut items = items;
    let end = start.saturating_add(max_results).min(items.len());
    let next = (end < items.len()).then(|| format!("o{end}"));
    Ok((items.drain(start..end).collect(), next))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn kv(k: &str, v: &str) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: v.into(),
        }
    }

    fn entity<'a>(id: i64, name: &'a str, created: i64, tags: &'a [KeyValue]) -> Entity<'a> {
        Entity {
            id,
            name,
            created,
            updated: created + 1,
            tags,
        }
    }

    #[test]
    fn filters_combine_attributes_tags_and_numbers() {
        let tags = [kv("team", "risk"), kv("a key", "x")];
        let e = entity(3, "Churn-v2", 100, &tags);
        let holds = |f: &str| {
            parse_filter(Some(f), Kind::Experiments)
                .unwrap()
                .matches(&e)
        };
        assert!(holds("name = 'Churn-v2'"));
        assert!(holds("name LIKE 'Churn%' and tags.team = 'risk'"));
        assert!(!holds("name LIKE 'churn%'"), "LIKE is case-sensitive");
        assert!(holds("name ILIKE 'churn%'"));
        assert!(holds("tags.`a key` = 'x' AND tags.\"team\" != 'ops'"));
        assert!(holds("tags.missing IS NULL AND tags.team IS NOT NULL"));
        assert!(
            holds("tags.`mlflow.prompt.is_prompt` != 'true'"),
            "absent tags differ"
        );
        assert!(!holds("tags.team != 'risk'"));
        assert!(holds("creation_time >= 100 AND last_update_time < 102"));
        assert!(holds("experiment_id = '3'"));
        assert!(!holds("experiment_id = 4"));
        assert!(
            parse_filter(Some(""), Kind::Experiments)
                .unwrap()
                .matches(&e)
        );
        // An AND inside quotes is text.
        let f = parse_filter(Some("name = 'x and y'"), Kind::Experiments).unwrap();
        assert!(f.matches(&entity(1, "x and y", 0, &[])));
    }

    #[test]
    fn like_matches_sql_and_stays_fast_on_hostile_patterns() {
        for (pattern, text, expected) in [
            ("a%", "abc", true),
            ("%c", "abc", true),
            ("a_c", "abc", true),
            ("a_c", "ac", false),
            ("%b%", "abc", true),
            ("%", "", true),
            ("", "", true),
            ("", "a", false),
            ("a%%b", "ab", true),
            ("%a%b%c%", "xaybzc", true),
            ("%a%b%c%", "xaybz", false),
            ("churn%", "Churn-v2", false),
        ] {
            assert_eq!(like(pattern, text, true), expected, "{pattern} {text}");
        }
        assert!(like("churn%", "Churn-v2", false));
        // Exponential for a backtracking matcher; here a product of the lengths.
        let hostile = format!("{}x", "%a".repeat(40));
        assert!(!like(&hostile, &"a".repeat(200), true));
        let deep = "%".repeat(100_000);
        assert!(like(&deep, "anything", true));
        let too_long = format!("name LIKE '{}'", "%".repeat(20_000));
        assert!(parse_filter(Some(&too_long), Kind::Experiments).is_err());
    }

    #[test]
    fn bad_filters_and_orders_are_refused() {
        for (f, kind) in [
            ("colour = 'red'", Kind::Experiments),
            ("creation_time = 'today'", Kind::Experiments),
            ("name > 3", Kind::Experiments),
            ("name = 'x", Kind::Experiments),
            ("name IS NULL", Kind::Experiments),
            ("experiment_id = 'x'", Kind::Experiments),
            ("creation_timestamp > 1", Kind::RegisteredModels),
            ("name = 'a' OR name = 'b'", Kind::RegisteredModels),
            ("tags.", Kind::RegisteredModels),
        ] {
            assert!(parse_filter(Some(f), kind).is_err(), "{f}");
        }
        for o in ["colour", "name SIDEWAYS", "name ASC extra"] {
            assert!(
                parse_order(Some(&Value::String(o.into())), Kind::Experiments).is_err(),
                "{o}"
            );
        }
        assert!(parse_order(Some(&serde_json::json!([1])), Kind::Experiments).is_err());
    }

    #[test]
    fn orders_default_to_mlflows_and_pages_follow_offsets() {
        let a = entity(1, "b", 10, &[]);
        let b = entity(2, "a", 20, &[]);
        let c = entity(3, "c", 20, &[]);
        let mut items = [a, b, c];
        let default = parse_order(None, Kind::Experiments).unwrap();
        items.sort_by(|x, y| default.compare(x, y));
        assert_eq!(items.iter().map(|e| e.id).collect::<Vec<_>>(), [2, 3, 1]);
        let by_name = parse_order(
            Some(&serde_json::json!(["name DESC"])),
            Kind::RegisteredModels,
        )
        .unwrap();
        items.sort_by(|x, y| by_name.compare(x, y));
        assert_eq!(
            items.iter().map(|e| e.name).collect::<Vec<_>>(),
            ["c", "b", "a"]
        );
        let (page, next) = offset_page(vec![1, 2, 3], 2, None).unwrap();
        assert_eq!((page, next.as_deref()), (vec![1, 2], Some("o2")));
        let (page, next) = offset_page(vec![1, 2, 3], 2, Some("o2")).unwrap();
        assert_eq!((page, next), (vec![3], None));
        assert!(offset_page(vec![1], 2, Some("o9")).is_err());
        assert!(offset_page(vec![1], 2, Some("abc")).is_err());
    }
}
