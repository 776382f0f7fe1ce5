//! Run search: MLflow's filter grammar (plus `OR` and parentheses) and `order_by`
//! clauses, parsed and turned into parameterised SQL.
//!
//! Everything user-supplied, values and metric/param/tag key names alike, becomes a
//! bind value; only fixed table and column names ever appear in the SQL text.
//! Placeholders are `$1, $2, ...` on both SQLite and PostgreSQL.

use std::fmt;

/// Deepest nesting of parentheses accepted in a filter.
const MAX_DEPTH: usize = 64;
/// Most comparisons in one filter (the databases refuse very large statements).
pub const MAX_COMPARISONS: usize = 100;
/// Most values in all the IN lists of one filter (SQLite takes at most 32,766 parameters).
pub const MAX_LIST_VALUES: usize = 10_000;
/// Top-level metric comparisons turned into joins; further ones stay `EXISTS` conditions
/// (SQLite joins at most 64 tables).
const MAX_METRIC_JOINS: usize = 20;

/// SQL dialect for generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (connections use `case_sensitive_like=ON`).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Real(f64),
    /// A string.
    Text(String),
}

/// A parse error: byte position in the input and a message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} at position {position}")]
pub struct ParseError {
    /// 0-based byte offset of the problem in the input.
    pub position: usize,
    /// Lowercase description, without a trailing period.
    pub message: String,
}

/// An `order_by` clause that failed to parse, with its index in the list.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid order_by clause {index}: {error}")]
pub struct OrderByError {
    /// 0-based index of the clause in the list.
    pub index: usize,
    /// The problem, positioned within that clause's string.
    pub error: ParseError,
}

/// Parsed filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// All of the sub-filters hold.
    And(Vec<Filter>),
    /// At least one of the sub-filters holds.
    Or(Vec<Filter>),
    /// A single comparison.
    Compare(Comparison),
}

/// One comparison, `field op value`, already checked for type and operator.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// What is compared.
    pub field: Field,
    /// The comparison operator.
    pub op: Op,
    /// The right-hand side.
    pub value: Operand,
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// No value (`IS NULL`, `IS NOT NULL`).
    None,
    /// One value (`=`, `<`, `LIKE`, ...).
    Single(Literal),
    /// A non-empty list (`IN`, `NOT IN`).
    List(Vec<Literal>),
}

/// A literal value in a filter, already converted to the field's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// An integer (integer attributes: start_time, end_time, experiment_id).
    Int(i64),
    /// A finite number (metrics).
    Real(f64),
    /// A string (params, tags, string attributes, datasets).
    Text(String),
}

impl Literal {
    fn to_sql(&self) -> SqlValue {
        match self {
            Literal::Int(v) => SqlValue::Int(*v),
            Literal::Real(v) => SqlValue::Real(*v),
            Literal::Text(v) => SqlValue::Text(v.clone()),
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=` or `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `LIKE` (case-sensitive)
    Like,
    /// `ILIKE` (case-insensitive)
    ILike,
    /// `IN (...)`
    In,
    /// `NOT IN (...)`
    NotIn,
    /// `IS NULL` (the key is absent)
    IsNull,
    /// `IS NOT NULL` (the key is present)
    IsNotNull,
}

impl Op {
    /// The operator as written in a filter (`!=` for both `!=` and `<>`).
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Like => "LIKE",
            Op::ILike => "ILIKE",
            Op::In => "IN",
            Op::NotIn => "NOT IN",
            Op::IsNull => "IS NULL",
            Op::IsNotNull => "IS NOT NULL",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

const NUMERIC_OPS: &[Op] = &[Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge];
const STRING_OPS: &[Op] = &[Op::Eq, Op::Ne, Op::Like, Op::ILike, Op::In, Op::NotIn];
const KEYED_STRING_OPS: &[Op] = &[
    Op::Eq,
    Op::Ne,
    Op::Like,
    Op::ILike,
    Op::In,
    Op::NotIn,
    Op::IsNull,
    Op::IsNotNull,
];
const NULLABLE_NUMERIC_OPS: &[Op] = &[
    Op::Eq,
    Op::Ne,
    Op::Lt,
    Op::Le,
    Op::Gt,
    Op::Ge,
    Op::IsNull,
    Op::IsNotNull,
];
const ID_OPS: &[Op] = &[Op::Eq, Op::Ne, Op::In, Op::NotIn];

/// A run attribute usable in filters and ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribute {
    /// `run_id`: the run's UUID.
    RunId,
    /// `run_name`
    RunName,
    /// `status`
    Status,
    /// `user_id`: the run's creator.
    UserId,
    /// `start_time`, ms since the epoch.
    StartTime,
    /// `end_time`, ms since the epoch; null while running.
    EndTime,
    /// `experiment_id`
    ExperimentId,
}

impl Attribute {
    /// Every attribute, in the order listed in error messages.
    pub const ALL: [Attribute; 7] = [
        Attribute::RunId,
        Attribute::RunName,
        Attribute::Status,
        Attribute::UserId,
        Attribute::StartTime,
        Attribute::EndTime,
        Attribute::ExperimentId,
    ];

    /// The name used in filters (`attributes.<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Attribute::RunId => "run_id",
            Attribute::RunName => "run_name",
            Attribute::Status => "status",
            Attribute::UserId => "user_id",
            Attribute::StartTime => "start_time",
            Attribute::EndTime => "end_time",
            Attribute::ExperimentId => "experiment_id",
        }
    }

    /// The column of the runs table (aliased `r`) holding this attribute.
    pub fn column(self) -> &'static str {
        match self {
            Attribute::RunId => "r.uuid",
            Attribute::RunName => "r.name",
            Attribute::Status => "r.status",
            Attribute::UserId => "r.created_by",
            Attribute::StartTime => "r.start_time",
            Attribute::EndTime => "r.end_time",
            Attribute::ExperimentId => "r.experiment_id",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// A property of a run's input dataset versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetField {
    /// `datasets.name`: the dataset's name.
    Name,
    /// `datasets.digest`: the version's content hash.
    Digest,
    /// `datasets.context`: the input edge's context, e.g. `training`.
    Context,
}

impl DatasetField {
    /// The name used in filters (`datasets.<name>`).
    pub fn name(self) -> &'static str {
        match self {
            DatasetField::Name => "name",
            DatasetField::Digest => "digest",
            DatasetField::Context => "context",
        }
    }

    /// The column, inside the dataset subquery, holding this field.
    pub fn column(self) -> &'static str {
        match self {
            DatasetField::Name => "d.name",
            DatasetField::Digest => "dv.content_hash",
            DatasetField::Context => "e.context",
        }
    }
}

/// What a comparison or order clause refers to.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// `metrics.<key>`: the run's latest value of that metric.
    Metric(String),
    /// `params.<key>`
    Param(String),
    /// `tags.<key>`
    Tag(String),
    /// `attributes.<name>`
    Attribute(Attribute),
    /// `datasets.<name>` (filters only)
    Dataset(DatasetField),
}

/// The type a field's values must have.
#[derive(Clone, Copy, PartialEq)]
enum ValueKind {
    Real,
    Integer,
    Text,
}

impl Field {
    /// The operators a filter may apply to this field.
    pub fn allowed_ops(&self) -> &'static [Op] {
        match self {
            Field::Metric(_) => NUMERIC_OPS,
            Field::Param(_) | Field::Tag(_) => KEYED_STRING_OPS,
            Field::Attribute(Attribute::StartTime) => NUMERIC_OPS,
            Field::Attribute(Attribute::EndTime) => NULLABLE_NUMERIC_OPS,
            Field::Attribute(Attribute::ExperimentId) => ID_OPS,
            Field::Attribute(_) | Field::Dataset(_) => STRING_OPS,
        }
    }

    fn value_kind(&self) -> ValueKind {
        match self {
            Field::Metric(_) => ValueKind::Real,
            Field::Attribute(
                Attribute::StartTime | Attribute::EndTime | Attribute::ExperimentId,
            ) => ValueKind::Integer,
            _ => ValueKind::Text,
        }
    }

    fn describe(&self) -> String {
        match self {
            Field::Metric(_) => "metrics".to_string(),
            Field::Param(_) => "params".to_string(),
            Field::Tag(_) => "tags".to_string(),
            Field::Attribute(a) => format!("attribute {}", a.name()),
            Field::Dataset(d) => format!("datasets.{}", d.name()),
        }
    }
}

/// One parsed order_by clause.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderBy {
    /// The field to sort by (never [`Field::Dataset`] when parsed).
    pub field: Field,
    /// `DESC` rather than the default `ASC`.
    pub descending: bool,
}

/// SQL fragments built from a filter and order clauses.
#[derive(Debug, Clone, Default)]
pub struct SqlParts {
    /// LEFT JOINs for ordering, to place after `FROM runs r`.
    pub joins: String,
    /// WHERE condition (empty when there is no filter), to AND with the caller's conditions.
    pub condition: String,
    /// ORDER BY terms joined by ", " (empty when no order clauses); the caller appends its own tie-breakers.
    pub order_terms: String,
    /// Values for the placeholders, in placeholder order starting at `first_placeholder`.
    pub binds: Vec<SqlValue>,
}

// ---------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A bare word: keyword, or identifier such as `metrics.val.loss`.
    Word(String),
    /// A `'single'` or `"double"` quoted string.
    Str(String),
    /// A `` `backtick` `` quoted name (keys only).
    Quoted(String),
    Number(String),
    LParen,
    RParen,
    Comma,
    Sym(Op),
    Eof,
    /// A lexical error; always the last token.
    Error(String),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    pos: usize,
    end: usize,
}

fn char_at(src: &str, i: usize) -> Option<char> {
    src.get(i..)?.chars().next()
}

fn is_word_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':')
}

fn is_digit(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_ascii_digit())
}

/// Scans a quoted string starting at the opening quote `q` (ASCII) at `start`;
/// a doubled quote stands for one. Returns the text and the end offset.
fn scan_quoted(src: &str, start: usize, q: char) -> Option<(String, usize)> {
    let mut text = String::new();
    let mut i = start + 1;
    loop {
        let c = char_at(src, i)?;
        i += c.len_utf8();
        if c != q {
            text.push(c);
        } else if char_at(src, i) == Some(q) {
            text.push(q);
            i += 1;
        } else {
            return Some((text, i));
        }
    }
}

/// Scans `[+-]? digits [. digits] [e [+-] digits]` at `start`; returns the end offset,
/// or `None` when malformed or glued to following word characters.
fn scan_number(src: &str, start: usize) -> Option<usize> {
    let b = src.as_bytes();
    let digit_at = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let mut i = start;
    if matches!(b.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let mut digits = 0;
    while digit_at(i) {
        i += 1;
        digits += 1;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while digit_at(i) {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let exp_start = j;
        while digit_at(j) {
            j += 1;
        }
        if j == exp_start {
            return None;
        }
        i = j;
    }
    match char_at(src, i) {
        Some(c) if is_word_char(c) => None,
        _ => Some(i),
    }
}

/// Splits the input into tokens. The last token is `Eof`, or `Error` at the first
/// lexical problem (the parser reports it only if it gets that far).
fn tokenize(src: &str) -> Vec<Token> {
    let mut toks = Vec::new();
    let mut i = 0;
    loop {
        while let Some(c) = char_at(src, i).filter(|c| c.is_whitespace()) {
            i += c.len_utf8();
        }
        let start = i;
        let Some(c) = char_at(src, i) else {
            toks.push(Token {
                tok: Tok::Eof,
                pos: i,
                end: i,
            });
            return toks;
        };
        let next = char_at(src, i + c.len_utf8());
        let mut step = |n: usize, tok: Tok| {
            i += n;
            tok
        };
        let tok = match c {
            '(' => step(1, Tok::LParen),
            ')' => step(1, Tok::RParen),
            ',' => step(1, Tok::Comma),
            '=' => step(1, Tok::Sym(Op::Eq)),
            '!' if next == Some('=') => step(2, Tok::Sym(Op::Ne)),
            '<' if next == Some('=') => step(2, Tok::Sym(Op::Le)),
            '<' if next == Some('>') => step(2, Tok::Sym(Op::Ne)),
            '<' => step(1, Tok::Sym(Op::Lt)),
            '>' if next == Some('=') => step(2, Tok::Sym(Op::Ge)),
            '>' => step(1, Tok::Sym(Op::Gt)),
            '\'' | '"' | '`' => match scan_quoted(src, start, c) {
                Some((text, end)) => {
                    i = end;
                    if c == '`' {
                        Tok::Quoted(text)
                    } else {
                        Tok::Str(text)
                    }
                }
                None => Tok::Error("unterminated string starting here".to_string()),
            },
            c if is_word_start(c) => {
                let len = src[start..]
                    .find(|c: char| !is_word_char(c))
                    .unwrap_or(src.len() - start);
                i += len;
                Tok::Word(src[start..i].to_string())
            }
            c if c.is_ascii_digit()
                || (c == '.' && is_digit(next))
                || (matches!(c, '+' | '-')
                    && (is_digit(next)
                        || (next == Some('.') && is_digit(char_at(src, i + 2))))) =>
            {
                match scan_number(src, start) {
                    Some(end) => {
                        i = end;
                        Tok::Number(src[start..end].to_string())
                    }
                    None => Tok::Error("invalid number".to_string()),
                }
            }
            c => Tok::Error(format!("unexpected character {c:?}")),
        };
        let is_error = matches!(tok, Tok::Error(_));
        toks.push(Token {
            tok,
            pos: start,
            end: i,
        });
        if is_error {
            return toks;
        }
    }
}

// ---------------------------------------------------------------------------
// Parser

fn error(position: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        position,
        message: message.into(),
    }
}

/// An error at `tok`: the lexer's own message for an error token, otherwise
/// `expected` followed by what was found.
fn unexpected(tok: &Token, expected: &str) -> ParseError {
    let found = match &tok.tok {
        Tok::Error(message) => return error(tok.pos, message.clone()),
        Tok::Word(w) => format!("'{w}'"),
        Tok::Str(_) => "a string".to_string(),
        Tok::Quoted(_) => "a backtick-quoted name".to_string(),
        Tok::Number(n) => format!("number {n}"),
        Tok::LParen => "'('".to_string(),
        Tok::RParen => "')'".to_string(),
        Tok::Comma => "','".to_string(),
        Tok::Sym(op) => format!("'{op}'"),
        Tok::Eof => "end of input".to_string(),
    };
    error(tok.pos, format!("{expected}, found {found}"))
}

fn is_keyword(tok: &Token, keyword: &str) -> bool {
    matches!(&tok.tok, Tok::Word(w) if w.eq_ignore_ascii_case(keyword))
}

/// One element for a single-item list, else the list wrapped by `make`.
fn combine(mut items: Vec<Filter>, make: fn(Vec<Filter>) -> Filter) -> Filter {
    if items.len() == 1
        && let Some(only) = items.pop()
    {
        return only;
    }
    make(items)
}

struct Parser {
    toks: Vec<Token>,
    idx: usize,
    eof: Token,
    comparisons: usize,
    list_values: usize,
}

impl Parser {
    fn new(src: &str) -> Self {
        let eof = Token {
            tok: Tok::Eof,
            pos: src.len(),
            end: src.len(),
        };
        Parser {
            toks: tokenize(src),
            idx: 0,
            eof,
            comparisons: 0,
            list_values: 0,
        }
    }

    fn peek(&self) -> &Token {
        self.toks.get(self.idx).unwrap_or(&self.eof)
    }

    /// Returns the current token and moves past it (never past `Eof`/`Error`).
    fn bump(&mut self) -> Token {
        let tok = self.peek().clone();
        if !matches!(tok.tok, Tok::Eof | Tok::Error(_)) {
            self.idx += 1;
        }
        tok
    }

    fn expr(&mut self, depth: usize) -> Result<Filter, ParseError> {
        let mut items = vec![self.and_expr(depth)?];
        while is_keyword(self.peek(), "or") {
            self.bump();
            items.push(self.and_expr(depth)?);
        }
        Ok(combine(items, Filter::Or))
    }

    fn and_expr(&mut self, depth: usize) -> Result<Filter, ParseError> {
        let mut items = vec![self.primary(depth)?];
        while is_keyword(self.peek(), "and") {
            self.bump();
            items.push(self.primary(depth)?);
        }
        Ok(combine(items, Filter::And))
    }

    fn primary(&mut self, depth: usize) -> Result<Filter, ParseError> {
        if self.peek().tok != Tok::LParen {
            return Ok(Filter::Compare(self.comparison()?));
        }
        let open = self.bump();
        if depth >= MAX_DEPTH {
            return Err(error(open.pos, "parentheses nested too deeply"));
        }
        let inner = self.expr(depth + 1)?;
        let close = self.bump();
        match close.tok {
            Tok::RParen => Ok(inner),
            Tok::Eof => Err(error(open.pos, "unclosed '('")),
            _ => Err(unexpected(&close, "expected AND, OR or ')'")),
        }
    }

    /// `prefix.key`, where the key is the rest of a bare word or an adjacent quoted name.
    fn identifier(&mut self, allow_datasets: bool) -> Result<Field, ParseError> {
        let tok = self.bump();
        let Tok::Word(word) = &tok.tok else {
            return Err(unexpected(
                &tok,
                "expected an identifier such as metrics.accuracy",
            ));
        };
        let Some((prefix, rest)) = word.split_once('.') else {
            return Err(error(
                tok.pos,
                format!("expected an identifier of the form prefix.key, found '{word}'"),
            ));
        };
        let key = if rest.is_empty() {
            let next = self.peek().clone();
            match next.tok {
                Tok::Str(s) | Tok::Quoted(s) if next.pos == tok.end => {
                    self.bump();
                    s
                }
                Tok::Error(_) => return Err(unexpected(&next, "")),
                _ => return Err(error(tok.end, "expected a key after '.'")),
            }
        } else {
            rest.to_string()
        };
        if key.is_empty() {
            return Err(error(tok.end, "empty key"));
        }
        match prefix.to_ascii_lowercase().as_str() {
            "metric" | "metrics" => Ok(Field::Metric(key)),
            "param" | "params" | "parameter" | "parameters" => Ok(Field::Param(key)),
            "tag" | "tags" => Ok(Field::Tag(key)),
            "attribute" | "attributes" | "attr" | "run" => match Attribute::from_name(&key) {
                Some(a) => Ok(Field::Attribute(a)),
                None => {
                    let names: Vec<&str> = Attribute::ALL.iter().map(|a| a.name()).collect();
                    Err(error(
                        tok.pos,
                        format!(
                            "unknown attribute '{key}', expected one of {}",
                            names.join(", ")
                        ),
                    ))
                }
            },
            "dataset" | "datasets" if !allow_datasets => {
                Err(error(tok.pos, "datasets cannot be used for ordering"))
            }
            "dataset" | "datasets" => match key.as_str() {
                "name" => Ok(Field::Dataset(DatasetField::Name)),
                "digest" => Ok(Field::Dataset(DatasetField::Digest)),
                "context" => Ok(Field::Dataset(DatasetField::Context)),
                _ => Err(error(
                    tok.pos,
                    format!("unknown dataset field '{key}', expected one of name, digest, context"),
                )),
            },
            _ => Err(error(
                tok.pos,
                format!(
                    "unknown identifier prefix '{prefix}', expected metrics, params, tags, attributes or datasets"
                ),
            )),
        }
    }

    fn operator(&mut self) -> Result<(Op, usize), ParseError> {
        let tok = self.bump();
        let op = match &tok.tok {
            Tok::Sym(op) => *op,
            Tok::Word(w) => match w.to_ascii_lowercase().as_str() {
                "like" => Op::Like,
                "ilike" => Op::ILike,
                "in" => Op::In,
                "not" => {
                    let next = self.bump();
                    if !is_keyword(&next, "in") {
                        return Err(unexpected(&next, "expected IN after NOT"));
                    }
                    Op::NotIn
                }
                "is" => {
                    let mut next = self.bump();
                    let negated = is_keyword(&next, "not");
                    if negated {
                        next = self.bump();
                    }
                    if !is_keyword(&next, "null") {
                        return Err(unexpected(&next, "expected NULL or NOT NULL after IS"));
                    }
                    if negated { Op::IsNotNull } else { Op::IsNull }
                }
                _ => return Err(unexpected(&tok, "expected a comparison operator")),
            },
            _ => return Err(unexpected(&tok, "expected a comparison operator")),
        };
        Ok((op, tok.pos))
    }

    fn comparison(&mut self) -> Result<Comparison, ParseError> {
        let start = self.peek().pos;
        self.comparisons += 1;
        if self.comparisons > MAX_COMPARISONS {
            return Err(error(
                start,
                format!("a filter may have at most {MAX_COMPARISONS} comparisons"),
            ));
        }
        let field = self.identifier(true)?;
        let (op, op_pos) = self.operator()?;
        let allowed = field.allowed_ops();
        if !allowed.contains(&op) {
            let names: Vec<&str> = allowed.iter().map(|o| o.symbol()).collect();
            return Err(error(
                op_pos,
                format!(
                    "operator {op} is not supported for {}, expected one of {}",
                    field.describe(),
                    names.join(", ")
                ),
            ));
        }
        let value = match op {
            Op::IsNull | Op::IsNotNull => Operand::None,
            Op::In | Op::NotIn => Operand::List(self.list(&field)?),
            _ => Operand::Single(self.literal(&field)?),
        };
        Ok(Comparison { field, op, value })
    }

    fn list(&mut self, field: &Field) -> Result<Vec<Literal>, ParseError> {
        let open = self.bump();
        if open.tok != Tok::LParen {
            return Err(unexpected(&open, "expected '(' to start the IN list"));
        }
        if self.peek().tok == Tok::RParen {
            return Err(error(open.pos, "empty IN list"));
        }
        let mut items = Vec::new();
        loop {
            self.list_values += 1;
            if self.list_values > MAX_LIST_VALUES {
                let pos = self.peek().pos;
                return Err(error(
                    pos,
                    format!("a filter's IN lists may hold at most {MAX_LIST_VALUES} values in all"),
                ));
            }
            items.push(self.literal(field)?);
            let tok = self.bump();
            match tok.tok {
                Tok::Comma => {}
                Tok::RParen => return Ok(items),
                Tok::Eof => return Err(error(open.pos, "unclosed '('")),
                _ => return Err(unexpected(&tok, "expected ',' or ')' in IN list")),
            }
        }
    }

    fn literal(&mut self, field: &Field) -> Result<Literal, ParseError> {
        let tok = self.bump();
        match (&tok.tok, field.value_kind()) {
            (Tok::Str(s), ValueKind::Text) => Ok(Literal::Text(s.clone())),
            (Tok::Number(n), ValueKind::Real) => match n.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(Literal::Real(v)),
                _ => Err(error(tok.pos, "number out of range")),
            },
            (Tok::Number(n), ValueKind::Integer) => {
                n.parse::<i64>().map(Literal::Int).map_err(|_| {
                    error(
                        tok.pos,
                        format!("expected an integer for {}", field.describe()),
                    )
                })
            }
            (Tok::Str(_), _) => Err(error(
                tok.pos,
                format!("expected a number for {}, found a string", field.describe()),
            )),
            (Tok::Number(_), ValueKind::Text) => Err(error(
                tok.pos,
                format!(
                    "expected a quoted string for {}, found a number",
                    field.describe()
                ),
            )),
            _ => Err(unexpected(&tok, "expected a value")),
        }
    }
}

/// Parse a filter; Ok(None) for an empty filter.
pub fn parse_filter(input: &str) -> Result<Option<Filter>, ParseError> {
    if input.trim().is_empty() {
        return Ok(None);
    }
    let mut parser = Parser::new(input);
    let filter = parser.expr(0)?;
    let tok = parser.peek();
    match tok.tok {
        Tok::Eof => Ok(Some(filter)),
        Tok::RParen => Err(error(tok.pos, "unmatched ')'")),
        _ => Err(unexpected(tok, "expected AND, OR or end of filter")),
    }
}

/// Parse one order_by clause: an identifier (not `datasets`), then `ASC` or `DESC`.
pub fn parse_order_by(input: &str) -> Result<OrderBy, ParseError> {
    let mut parser = Parser::new(input);
    let field = parser.identifier(false)?;
    let tok = parser.bump();
    let descending = match &tok.tok {
        Tok::Eof => false,
        _ if is_keyword(&tok, "asc") => false,
        _ if is_keyword(&tok, "desc") => true,
        _ => return Err(unexpected(&tok, "expected ASC, DESC or end of clause")),
    };
    let end = parser.peek();
    if end.tok != Tok::Eof {
        return Err(unexpected(end, "expected end of clause"));
    }
    Ok(OrderBy { field, descending })
}

/// Parse a list of order_by clauses; an error names the failing clause's index.
pub fn parse_order_by_list<S: AsRef<str>>(clauses: &[S]) -> Result<Vec<OrderBy>, OrderByError> {
    clauses
        .iter()
        .enumerate()
        .map(|(index, clause)| {
            parse_order_by(clause.as_ref()).map_err(|error| OrderByError { index, error })
        })
        .collect()
}

// ---------------------------------------------------------------------------
// SQL generation

struct Gen {
    dialect: Dialect,
    next: usize,
    binds: Vec<SqlValue>,
}

impl Gen {
    fn bind(&mut self, value: SqlValue) -> String {
        let placeholder = format!("${}", self.next);
        self.next += 1;
        self.binds.push(value);
        placeholder
    }

    fn filter(&mut self, filter: &Filter) -> String {
        match filter {
            Filter::Compare(c) => self.comparison(c),
            Filter::And(items) if items.is_empty() => "1 = 1".to_string(),
            Filter::Or(items) if items.is_empty() => "1 = 0".to_string(),
            Filter::And(items) => self.group(items, " AND "),
            Filter::Or(items) => self.group(items, " OR "),
        }
    }

    fn group(&mut self, items: &[Filter], separator: &str) -> String {
        let parts: Vec<String> = items.iter().map(|f| self.filter(f)).collect();
        format!("({})", parts.join(separator))
    }

    fn comparison(&mut self, c: &Comparison) -> String {
        match &c.field {
            Field::Metric(key) => self.keyed("latest_metrics", "m", key, c),
            Field::Param(key) => self.keyed("run_params", "p", key, c),
            Field::Tag(key) => self.keyed("run_tags", "t", key, c),
            Field::Attribute(a) => self.predicate(a.column(), c.op, &c.value),
            Field::Dataset(d) => {
                let predicate = self.predicate(d.column(), c.op, &c.value);
                format!(
                    "EXISTS (SELECT 1 FROM lineage_edges e \
                     JOIN dataset_versions dv ON dv.id = e.src_id \
                     JOIN datasets d ON d.id = dv.dataset_id \
                     WHERE e.dst_kind = 'run' AND e.dst_id = r.id \
                     AND e.src_kind = 'dataset_version' AND e.relation = 'input' AND {predicate})"
                )
            }
        }
    }

    /// A metric/param/tag comparison: an EXISTS over the key/value table.
    fn keyed(&mut self, table: &str, alias: &str, key: &str, c: &Comparison) -> String {
        let key_placeholder = self.bind(SqlValue::Text(key.to_string()));
        let base = format!(
            "SELECT 1 FROM {table} {alias} WHERE {alias}.run_id = r.id AND {alias}.key = {key_placeholder}"
        );
        match c.op {
            Op::IsNull => format!("NOT EXISTS ({base})"),
            Op::IsNotNull => format!("EXISTS ({base})"),
            op => {
                let predicate = self.predicate(&format!("{alias}.value"), op, &c.value);
                format!("EXISTS ({base} AND {predicate})")
            }
        }
    }

    /// `col op value`. An operand that does not fit the operator (only possible for a
    /// hand-built [`Comparison`]) yields a condition that is never true.
    fn predicate(&mut self, col: &str, op: Op, value: &Operand) -> String {
        let list = match value {
            Operand::List(items) => items.as_slice(),
            Operand::Single(item) => std::slice::from_ref(item),
            Operand::None => &[],
        };
        match (op, value) {
            (Op::IsNull, _) => format!("{col} IS NULL"),
            (Op::IsNotNull, _) => format!("{col} IS NOT NULL"),
            (Op::In, _) if list.is_empty() => "1 = 0".to_string(),
            (Op::NotIn, _) if list.is_empty() => "1 = 1".to_string(),
            (Op::In | Op::NotIn, _) => {
                let placeholders: Vec<String> =
                    list.iter().map(|l| self.bind(l.to_sql())).collect();
                let not = if op == Op::NotIn { "NOT " } else { "" };
                format!("{col} {not}IN ({})", placeholders.join(", "))
            }
            (Op::ILike, Operand::Single(l)) => {
                let placeholder = self.bind(l.to_sql());
                match self.dialect {
                    Dialect::Postgres => format!("{col} ILIKE {placeholder}"),
                    Dialect::Sqlite => format!("lower({col}) LIKE lower({placeholder})"),
                }
            }
            (_, Operand::Single(l)) => {
                let sql_op = match op {
                    Op::Ne => "<>",
                    other => other.symbol(),
                };
                let placeholder = self.bind(l.to_sql());
                format!("{col} {sql_op} {placeholder}")
            }
            _ => "1 = 0".to_string(),
        }
    }
}

/// Splits the top-level AND of a filter into numeric metric comparisons (which can be joins)
/// and the rest (None when nothing remains).
fn split_metric_conjuncts(filter: Option<&Filter>) -> (Vec<&Comparison>, Option<Filter>) {
    let items: Vec<&Filter> = match filter {
        None => return (Vec::new(), None),
        Some(Filter::And(items)) => items.iter().collect(),
        Some(other) => vec![other],
    };
    let mut metrics = Vec::new();
    let mut rest = Vec::new();
    for item in items {
        match item {
            Filter::Compare(c)
                if metrics.len() < MAX_METRIC_JOINS
                    && matches!(c.field, Field::Metric(_))
                    && matches!(c.op, Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge)
                    && matches!(c.value, Operand::Single(_)) =>
            {
                metrics.push(c);
            }
            other => rest.push(other.clone()),
        }
    }
    let remaining = match rest.len() {
        0 => None,
        1 => rest.pop(),
        _ => Some(Filter::And(rest)),
    };
    (metrics, remaining)
}

/// Build SQL for a filter and ordering. Placeholders are numbered from `first_placeholder`.
///
/// The order_by JOINs' placeholders come first, then the filter's, so that binds are in
/// textual order. Metrics, params and tags sort runs lacking the key (or with a NaN metric)
/// last in either direction, as does `end_time` for unfinished runs. A
/// [`Field::Dataset`] order clause (never produced by [`parse_order_by`]) is ignored.
pub fn build_sql(
    filter: Option<&Filter>,
    order_by: &[OrderBy],
    dialect: Dialect,
    first_placeholder: usize,
) -> SqlParts {
    let mut generator = Gen {
        dialect,
        next: first_placeholder,
        binds: Vec::new(),
    };
    let mut joins = Vec::new();
    let mut terms = Vec::new();
    // Top-level conjuncts on metrics become inner joins on latest_metrics, so the database can
    // drive the query from the (key, value) index instead of testing every run; an order on the
    // same metric reuses the join (and, with it, the index order).
    let (metric_joins, remaining) = split_metric_conjuncts(filter);
    let mut joined: Vec<(&str, String)> = Vec::new();
    for (j, c) in metric_joins.iter().enumerate() {
        let Field::Metric(key) = &c.field else {
            continue;
        };
        let alias = format!("f{j}");
        let key_placeholder = generator.bind(SqlValue::Text(key.clone()));
        let predicate = generator.predicate(&format!("{alias}.value"), c.op, &c.value);
        joins.push(format!(
            "JOIN latest_metrics {alias} ON {alias}.run_id = r.id AND {alias}.key = {key_placeholder} AND {predicate}"
        ));
        if !joined.iter().any(|(k, _)| k == key) {
            joined.push((key.as_str(), alias));
        }
    }
    for (i, clause) in order_by.iter().enumerate() {
        let direction = if clause.descending { "DESC" } else { "ASC" };
        let (table, key) = match &clause.field {
            Field::Metric(key) => {
                if let Some((_, alias)) = joined.iter().find(|(k, _)| k == key) {
                    terms.push(format!("{alias}.value {direction}"));
                    continue;
                }
                ("latest_metrics", key)
            }
            Field::Param(key) => ("run_params", key),
            Field::Tag(key) => ("run_tags", key),
            Field::Attribute(a) => {
                let col = a.column();
                if *a == Attribute::EndTime {
                    terms.push(format!("({col} IS NULL) ASC"));
                }
                terms.push(format!("{col} {direction}"));
                continue;
            }
            Field::Dataset(_) => continue,
        };
        let alias = format!("o{i}");
        let placeholder = generator.bind(SqlValue::Text(key.clone()));
        joins.push(format!(
            "LEFT JOIN {table} {alias} ON {alias}.run_id = r.id AND {alias}.key = {placeholder}"
        ));
        terms.push(format!("({alias}.value IS NULL) ASC"));
        terms.push(format!("{alias}.value {direction}"));
    }
    let condition = remaining.map(|f| generator.filter(&f)).unwrap_or_default();
    SqlParts {
        joins: joins.join(" "),
        condition,
        order_terms: terms.join(", "),
        binds: generator.binds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str) -> Filter {
        match parse_filter(input) {
            Ok(Some(f)) => f,
            other => panic!("{input:?} did not parse: {other:?}"),
        }
    }

    fn cmp(input: &str) -> Comparison {
        match parse(input) {
            Filter::Compare(c) => c,
            other => panic!("{input:?} is not a single comparison: {other:?}"),
        }
    }

    fn err(input: &str) -> ParseError {
        match parse_filter(input) {
            Err(e) => e,
            Ok(f) => panic!("{input:?} parsed unexpectedly: {f:?}"),
        }
    }

    fn assert_err(input: &str, position: usize, fragment: &str) {
        let e = err(input);
        assert_eq!(e.position, position, "{input:?}: {e}");
        assert!(
            e.message.contains(fragment),
            "{input:?}: {e} lacks {fragment:?}"
        );
        assert!(!e.message.ends_with('.'), "{e}");
    }

    fn single(field: Field, op: Op, value: Literal) -> Comparison {
        Comparison {
            field,
            op,
            value: Operand::Single(value),
        }
    }

    fn metric(key: &str, op: Op, v: f64) -> Filter {
        Filter::Compare(single(Field::Metric(key.into()), op, Literal::Real(v)))
    }

    fn text(s: &str) -> Literal {
        Literal::Text(s.to_string())
    }

    #[test]
    fn empty_filter_is_none() {
        assert_eq!(parse_filter(""), Ok(None));
        assert_eq!(parse_filter("  \t\n "), Ok(None));
    }

    #[test]
    fn metric_operators() {
        let cases = [("=", Op::Eq), ("!=", Op::Ne), ("<>", Op::Ne), ("<", Op::Lt)];
        let more = [("<=", Op::Le), (">", Op::Gt), (">=", Op::Ge)];
        for (sym, op) in cases.into_iter().chain(more) {
            let c = cmp(&format!("metrics.acc {sym} 0.5"));
            assert_eq!(
                c,
                single(Field::Metric("acc".into()), op, Literal::Real(0.5))
            );
        }
        assert_eq!(
            cmp("metric.loss>=-1.5e-3").value,
            Operand::Single(Literal::Real(-1.5e-3))
        );
        assert_eq!(
            cmp("metrics.x = 3").value,
            Operand::Single(Literal::Real(3.0))
        );
        assert_eq!(
            cmp("metrics.x < .5").value,
            Operand::Single(Literal::Real(0.5))
        );
        assert_eq!(
            cmp("metrics.x < +2").value,
            Operand::Single(Literal::Real(2.0))
        );
    }

    #[test]
    fn param_and_tag_operators() {
        for (prefix, make) in [
            ("params", Field::Param as fn(String) -> Field),
            ("tags", Field::Tag),
            ("parameter", Field::Param),
            ("tag", Field::Tag),
        ] {
            let f = make("k".to_string());
            for (sym, op) in [
                ("=", Op::Eq),
                ("!=", Op::Ne),
                ("LIKE", Op::Like),
                ("ILIKE", Op::ILike),
            ] {
                let c = cmp(&format!("{prefix}.k {sym} 'v%'"));
                assert_eq!(c, single(f.clone(), op, text("v%")));
            }
            let c = cmp(&format!("{prefix}.k IN ('a', \"b\")"));
            assert_eq!(c.op, Op::In);
            assert_eq!(c.value, Operand::List(vec![text("a"), text("b")]));
            assert_eq!(cmp(&format!("{prefix}.k NOT IN ('a')")).op, Op::NotIn);
            let c = cmp(&format!("{prefix}.k IS NULL"));
            assert_eq!((c.op, c.value), (Op::IsNull, Operand::None));
            assert_eq!(cmp(&format!("{prefix}.k is not null")).op, Op::IsNotNull);
        }
    }

    #[test]
    fn attributes_and_datasets() {
        let c = cmp("attributes.run_id IN ('a', 'b')");
        assert_eq!(c.field, Field::Attribute(Attribute::RunId));
        assert_eq!(c.value, Operand::List(vec![text("a"), text("b")]));
        assert_eq!(
            cmp("attribute.run_name LIKE 'x%'").field,
            Field::Attribute(Attribute::RunName)
        );
        assert_eq!(
            cmp("run.status = 'FINISHED'").field,
            Field::Attribute(Attribute::Status)
        );
        assert_eq!(
            cmp("attr.user_id != 'bob'").field,
            Field::Attribute(Attribute::UserId)
        );
        let c = cmp("attributes.start_time >= 1700000000000");
        assert_eq!(c.value, Operand::Single(Literal::Int(1_700_000_000_000)));
        assert_eq!(cmp("attributes.end_time IS NULL").op, Op::IsNull);
        assert_eq!(
            cmp("attributes.end_time < 5").value,
            Operand::Single(Literal::Int(5))
        );
        let c = cmp("attributes.experiment_id IN (1, 2)");
        assert_eq!(
            c.value,
            Operand::List(vec![Literal::Int(1), Literal::Int(2)])
        );
        assert_eq!(cmp("attributes.experiment_id != 3").op, Op::Ne);
        for (key, field) in [
            ("name", DatasetField::Name),
            ("digest", DatasetField::Digest),
            ("context", DatasetField::Context),
        ] {
            for op in ["=", "!=", "LIKE", "ILIKE"] {
                assert_eq!(
                    cmp(&format!("datasets.{key} {op} 'x'")).field,
                    Field::Dataset(field)
                );
            }
            assert_eq!(cmp(&format!("dataset.{key} NOT IN ('x')")).op, Op::NotIn);
        }
    }

    #[test]
    fn precedence_and_parentheses() {
        let (a, b, c) = (
            metric("a", Op::Eq, 1.0),
            metric("b", Op::Eq, 2.0),
            metric("c", Op::Eq, 3.0),
        );
        assert_eq!(
            parse("metrics.a = 1 OR metrics.b = 2 AND metrics.c = 3"),
            Filter::Or(vec![a.clone(), Filter::And(vec![b.clone(), c.clone()])])
        );
        assert_eq!(
            parse("(metrics.a = 1 OR metrics.b = 2) AND metrics.c = 3"),
            Filter::And(vec![Filter::Or(vec![a.clone(), b.clone()]), c.clone()])
        );
        assert_eq!(
            parse("metrics.a = 1 and metrics.b = 2 and metrics.c = 3"),
            Filter::And(vec![a.clone(), b.clone(), c.clone()])
        );
        assert_eq!(parse("((metrics.a = 1))"), a);
    }

    #[test]
    fn keys_quoting_and_keywords() {
        assert_eq!(
            cmp("metrics.val.loss < 1").field,
            Field::Metric("val.loss".into())
        );
        assert_eq!(
            cmp("metrics.`val loss` < 1").field,
            Field::Metric("val loss".into())
        );
        assert_eq!(
            cmp("params.\"a.b c\" = 'x'").field,
            Field::Param("a.b c".into())
        );
        assert_eq!(
            cmp("tags.'my tag' = 'x'").field,
            Field::Tag("my tag".into())
        );
        assert_eq!(
            cmp("tags.mlflow.runName = 'x'").field,
            Field::Tag("mlflow.runName".into())
        );
        assert_eq!(
            cmp("tags.a-b/c:d = 'x'").field,
            Field::Tag("a-b/c:d".into())
        );
        assert_eq!(
            cmp("params.x = 'it''s'").value,
            Operand::Single(text("it's"))
        );
        assert_eq!(
            cmp("params.x = \"say \"\"hi\"\"\"").value,
            Operand::Single(text("say \"hi\""))
        );
        assert_eq!(cmp("params.x = ''").value, Operand::Single(text("")));
        assert_eq!(cmp("metrics.`a``b` = 1").field, Field::Metric("a`b".into()));
        assert_eq!(cmp("params.x = 'é ☃'").value, Operand::Single(text("é ☃")));
        let f = parse("METRICS.a = 1 And Params.b Like 'x' oR TAGS.c iS NoT nUlL");
        let Filter::Or(items) = f else {
            panic!("expected OR: {f:?}")
        };
        assert_eq!(items.len(), 2);
        assert_eq!(cmp("params.b not in ('x')").op, Op::NotIn);
        assert_eq!(cmp("params.b ilike 'x'").op, Op::ILike);
    }

    #[test]
    fn error_positions() {
        assert_err("params.x = 'abc", 11, "unterminated string starting here");
        assert_err(
            "params.x = 'a' AND tags.\"t = 'b'",
            24,
            "unterminated string",
        );
        assert_err("params.x = '1' OR 1=1 --", 18, "expected an identifier");
        assert_err(
            "params.x = '1'; DROP TABLE runs",
            14,
            "unexpected character ';'",
        );
        assert_err("metrics.a = 1 --", 14, "unexpected character '-'");
        assert_err("metrics.a = 1 foo", 14, "expected AND, OR or end of filter");
        assert_err("metrics.a = 1 'x'", 14, "expected AND, OR or end of filter");
        assert_err("foo.bar = 1", 0, "unknown identifier prefix 'foo'");
        assert_err(
            "metrics.a = 1 AND foo.bar = 1",
            18,
            "unknown identifier prefix",
        );
        assert_err("acc > 1", 0, "prefix.key");
        assert_err(
            "attributes.nope = 'x'",
            0,
            "unknown attribute 'nope', expected one of run_id",
        );
        assert_err("datasets.size = 'x'", 0, "unknown dataset field");
        assert_err(
            "metrics.acc LIKE 'x'",
            12,
            "operator LIKE is not supported for metrics",
        );
        assert_err(
            "params.lr > 0.1",
            10,
            "operator > is not supported for params",
        );
        assert_err("attributes.run_id < 'x'", 18, "not supported");
        assert_err("attributes.experiment_id > 1", 25, "not supported");
        assert_err("attributes.start_time IS NULL", 22, "not supported");
        assert_err("metrics.acc IS NULL", 12, "not supported");
        assert_err("metrics.acc > 'abc'", 14, "expected a number");
        assert_err("params.lr = 0.1", 12, "expected a quoted string");
        assert_err("attributes.start_time > 1.5", 24, "expected an integer");
        assert_err(
            "attributes.experiment_id IN (1, 'x')",
            32,
            "expected a number",
        );
        assert_err("metrics.a > 1e999", 12, "number out of range");
        assert_err("metrics.a > 1abc", 12, "invalid number");
        assert_err("metrics.a > 1e", 12, "invalid number");
        assert_err("params.x IN ()", 12, "empty IN list");
        assert_err("params.x IN 'a'", 12, "expected '('");
        assert_err("params.x IN ('a'", 12, "unclosed '('");
        assert_err("params.x IN ('a' 'b')", 17, "expected ',' or ')'");
        assert_err("(metrics.a = 1", 0, "unclosed '('");
        assert_err("metrics.a = 1 AND ((metrics.b = 1)", 18, "unclosed '('");
        assert_err("metrics.a = 1)", 13, "unmatched ')'");
        assert_err(
            "(metrics.a = 1 metrics.b = 2)",
            15,
            "expected AND, OR or ')'",
        );
        assert_err("()", 1, "expected an identifier");
        assert_err("metrics.a >", 11, "expected a value, found end of input");
        assert_err(
            "metrics.a > AND metrics.b = 1",
            12,
            "expected a value, found 'AND'",
        );
        assert_err("metrics.a", 9, "expected a comparison operator");
        assert_err("metrics.a == 1", 11, "expected a value, found '='");
        assert_err("metrics.a ! 1", 10, "unexpected character '!'");
        assert_err("params.a NOT LIKE 'x'", 13, "expected IN after NOT");
        assert_err("params.a IS 'x'", 12, "expected NULL or NOT NULL");
        assert_err("metrics.a = 1 AND", 17, "found end of input");
        assert_err("metrics. = 1", 8, "expected a key after '.'");
        assert_err("metrics.'' = 1", 8, "empty key");
        assert_err("metrics.a = `x`", 12, "expected a value");
        assert_err("metrics.'abc = 1", 8, "unterminated string");
        assert_err("params.x = 'a' OR", 17, "expected an identifier");
        let deep = format!("{}metrics.a = 1{}", "(".repeat(200), ")".repeat(200));
        assert_err(&deep, MAX_DEPTH, "nested too deeply");
        let fine = format!(
            "{}metrics.a = 1{}",
            "(".repeat(MAX_DEPTH),
            ")".repeat(MAX_DEPTH)
        );
        assert!(parse_filter(&fine).is_ok());
        assert_eq!(
            err("x = 1").to_string(),
            "expected an identifier of the form prefix.key, found 'x' at position 0"
        );
    }

    #[test]
    fn order_by_parsing() -> Result<(), ParseError> {
        assert_eq!(
            parse_order_by("metrics.acc DESC")?,
            OrderBy {
                field: Field::Metric("acc".into()),
                descending: true
            }
        );
        assert!(!parse_order_by("params.lr")?.descending);
        assert!(!parse_order_by("attributes.start_time ASC")?.descending);
        assert!(parse_order_by("  tags.team desc ")?.descending);
        assert_eq!(
            parse_order_by("metrics.`val loss`")?.field,
            Field::Metric("val loss".into())
        );
        let e = parse_order_by("metrics.acc DOWN").err();
        assert_eq!(e.map(|e| e.position), Some(12));
        let e = parse_order_by("metrics.acc DESC x").err();
        assert_eq!(e.map(|e| e.position), Some(17));
        let e = parse_order_by("datasets.name").err();
        assert_eq!(e.map(|e| e.position), Some(0));
        let e = parse_order_by("").err();
        assert_eq!(e.map(|e| e.position), Some(0));
        let e = parse_order_by("attributes.bogus").err();
        assert_eq!(e.map(|e| e.position), Some(0));
        let e = parse_order_by_list(&["metrics.a", "params.b sideways"]).err();
        assert_eq!(
            e.as_ref().map(|e| (e.index, e.error.position)),
            Some((1, 9))
        );
        assert_eq!(
            parse_order_by_list(&["metrics.a", "tags.b DESC"]).map(|v| v.len()),
            Ok(2)
        );
        Ok(())
    }

    #[test]
    fn sql_for_and_on_both_dialects() -> Result<(), ParseError> {
        let filter = parse_filter("metrics.acc > 0.5 AND params.opt = 'adam'")?;
        // The top-level metric comparison becomes an inner join; the rest stays a condition.
        let expected = "EXISTS (SELECT 1 FROM run_params p WHERE p.run_id = r.id AND p.key = $5 AND p.value = $6)";
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let parts = build_sql(filter.as_ref(), &[], dialect, 3);
            assert_eq!(parts.condition, expected);
            assert_eq!(
                parts.joins,
                "JOIN latest_metrics f0 ON f0.run_id = r.id AND f0.key = $3 AND f0.value > $4"
            );
            assert_eq!(parts.order_terms, "");
            assert_eq!(
                parts.binds,
                vec![
                    SqlValue::Text("acc".into()),
                    SqlValue::Real(0.5),
                    SqlValue::Text("opt".into()),
                    SqlValue::Text("adam".into()),
                ]
            );
        }
        Ok(())
    }

    #[test]
    fn filters_are_bounded() -> Result<(), ParseError> {
        let terms = |n: usize, join: &str| {
            (0..n)
                .map(|i| format!("params.p{i} = 'x'"))
                .collect::<Vec<_>>()
                .join(join)
        };
        assert!(parse_filter(&terms(MAX_COMPARISONS, " or "))?.is_some());
        let too_many = terms(MAX_COMPARISONS + 1, " or ");
        let e = err(&too_many);
        assert!(e.message.contains("at most 100 comparisons"), "{e}");
        assert_eq!(e.position, too_many.rfind("params.").unwrap_or(0));
        let list = (0..=MAX_LIST_VALUES)
            .map(|i| format!("'{i}'"))
            .collect::<Vec<_>>()
            .join(",");
        assert!(
            err(&format!("params.a IN ({list})"))
                .message
                .contains("IN lists")
        );
        // Many top-level metric comparisons: only the first ones become joins.
        let metrics = (0..70)
            .map(|i| format!("metrics.m{i} > 0"))
            .collect::<Vec<_>>()
            .join(" and ");
        let parts = build_sql(parse_filter(&metrics)?.as_ref(), &[], Dialect::Sqlite, 1);
        assert_eq!(parts.joins.matches("JOIN").count(), MAX_METRIC_JOINS);
        assert_eq!(
            parts.condition.matches("EXISTS").count(),
            70 - MAX_METRIC_JOINS
        );
        Ok(())
    }

    #[test]
    fn metric_conjunct_join_serves_the_order_on_the_same_key() -> Result<(), ParseError> {
        let filter = parse_filter("metrics.acc > 0.9 and (params.lr = '0.1' or metrics.loss < 1)")?;
        let order = [
            parse_order_by("metrics.acc DESC")?,
            parse_order_by("metrics.loss")?,
        ];
        let parts = build_sql(filter.as_ref(), &order, Dialect::Sqlite, 1);
        assert_eq!(
            parts.joins,
            "JOIN latest_metrics f0 ON f0.run_id = r.id AND f0.key = $1 AND f0.value > $2 \
             LEFT JOIN latest_metrics o1 ON o1.run_id = r.id AND o1.key = $3"
        );
        assert_eq!(
            parts.order_terms,
            "f0.value DESC, (o1.value IS NULL) ASC, o1.value ASC"
        );
        assert!(
            parts
                .condition
                .starts_with("(EXISTS (SELECT 1 FROM run_params p"),
            "{}",
            parts.condition
        );
        assert_eq!(parts.binds.len(), 7);
        // OR at the top level keeps every comparison in the condition.
        let parts = build_sql(
            parse_filter("metrics.a > 1 or metrics.b > 2")?.as_ref(),
            &[],
            Dialect::Sqlite,
            1,
        );
        assert_eq!(parts.joins, "");
        Ok(())
    }

    #[test]
    fn sql_dialect_differences_and_shapes() -> Result<(), ParseError> {
        let filter = parse_filter("tags.team ILIKE 'ML%' OR attributes.run_name != 'x'")?;
        let sqlite = build_sql(filter.as_ref(), &[], Dialect::Sqlite, 1);
        assert_eq!(
            sqlite.condition,
            "(EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = r.id AND t.key = $1 AND lower(t.value) LIKE lower($2)) OR r.name <> $3)"
        );
        let pg = build_sql(filter.as_ref(), &[], Dialect::Postgres, 1);
        assert_eq!(
            pg.condition,
            "(EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = r.id AND t.key = $1 AND t.value ILIKE $2) OR r.name <> $3)"
        );
        let sql = |f: &str| -> Result<(String, Vec<SqlValue>), ParseError> {
            let parts = build_sql(parse_filter(f)?.as_ref(), &[], Dialect::Sqlite, 1);
            Ok((parts.condition, parts.binds))
        };
        assert_eq!(
            sql("params.x IS NULL")?.0,
            "NOT EXISTS (SELECT 1 FROM run_params p WHERE p.run_id = r.id AND p.key = $1)"
        );
        assert_eq!(
            sql("params.x IS NOT NULL")?.0,
            "EXISTS (SELECT 1 FROM run_params p WHERE p.run_id = r.id AND p.key = $1)"
        );
        assert_eq!(
            sql("attributes.run_id NOT IN ('a', 'b')")?.0,
            "r.uuid NOT IN ($1, $2)"
        );
        assert_eq!(
            sql("attributes.end_time IS NOT NULL")?.0,
            "r.end_time IS NOT NULL"
        );
        assert_eq!(
            sql("attributes.user_id LIKE 'a%'")?.0,
            "r.created_by LIKE $1"
        );
        let (cond, binds) = sql("attributes.experiment_id IN (1, 2)")?;
        assert_eq!(cond, "r.experiment_id IN ($1, $2)");
        assert_eq!(binds, vec![SqlValue::Int(1), SqlValue::Int(2)]);
        assert_eq!(
            sql("datasets.digest = 'abc'")?.0,
            "EXISTS (SELECT 1 FROM lineage_edges e JOIN dataset_versions dv ON dv.id = e.src_id \
             JOIN datasets d ON d.id = dv.dataset_id WHERE e.dst_kind = 'run' AND e.dst_id = r.id \
             AND e.src_kind = 'dataset_version' AND e.relation = 'input' AND dv.content_hash = $1)"
        );
        let (cond, binds) = sql("params.x = '1'' OR 1=1 --'")?;
        assert!(!cond.contains("OR"), "{cond}");
        assert_eq!(binds[1], SqlValue::Text("1' OR 1=1 --".into()));
        assert_eq!(
            sql("metrics.a = 1 OR (metrics.b = 2 AND metrics.c = 3)")?
                .0
                .matches('(')
                .count(),
            // two groups plus three EXISTS
            5
        );
        Ok(())
    }

    #[test]
    fn sql_with_order_by_numbers_joins_first() -> Result<(), ParseError> {
        let order = vec![
            parse_order_by("metrics.`val loss` DESC")?,
            parse_order_by("attributes.end_time")?,
            parse_order_by("params.lr ASC")?,
            parse_order_by("attributes.start_time DESC")?,
        ];
        let filter = parse_filter("tags.t = 'x'")?;
        let parts = build_sql(filter.as_ref(), &order, Dialect::Postgres, 4);
        assert_eq!(
            parts.joins,
            "LEFT JOIN latest_metrics o0 ON o0.run_id = r.id AND o0.key = $4 \
             LEFT JOIN run_params o2 ON o2.run_id = r.id AND o2.key = $5"
        );
        assert_eq!(
            parts.condition,
            "EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = r.id AND t.key = $6 AND t.value = $7)"
        );
        assert_eq!(
            parts.order_terms,
            "(o0.value IS NULL) ASC, o0.value DESC, (r.end_time IS NULL) ASC, r.end_time ASC, \
             (o2.value IS NULL) ASC, o2.value ASC, r.start_time DESC"
        );
        let texts = ["val loss", "lr", "t", "x"].map(|s| SqlValue::Text(s.into()));
        assert_eq!(parts.binds, texts.to_vec());
        let none = build_sql(None, &[], Dialect::Sqlite, 1);
        assert!(none.condition.is_empty() && none.joins.is_empty() && none.binds.is_empty());
        Ok(())
    }

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn check_never_panics(input: &str) {
        match parse_filter(input) {
            Err(e) => {
                assert!(e.position <= input.len(), "{input:?}: {e}");
                assert!(input.is_char_boundary(e.position), "{input:?}: {e}");
            }
            Ok(filter) => {
                for dialect in [Dialect::Sqlite, Dialect::Postgres] {
                    let parts = build_sql(filter.as_ref(), &[], dialect, 1);
                    assert_eq!(
                        parts.condition.matches('$').count() + parts.joins.matches('$').count(),
                        parts.binds.len(),
                        "{input:?}"
                    );
                    // Only the fixed literals of the dataset subquery may be quoted.
                    let rest = ["'run'", "'dataset_version'", "'input'"]
                        .iter()
                        .fold(parts.condition.clone(), |s, lit| s.replace(lit, ""));
                    assert!(
                        !rest.contains('\'') && !rest.contains('"'),
                        "{input:?}: {rest}"
                    );
                }
            }
        }
        if let Ok(order) = parse_order_by(input) {
            let parts = build_sql(None, &[order], Dialect::Sqlite, 1);
            assert_eq!(parts.joins.matches('$').count(), parts.binds.len());
        }
    }

    #[test]
    fn random_inputs_never_panic() {
        let fragments = [
            "metrics.",
            "params.",
            "tags.",
            "attributes.",
            "datasets.",
            "run_id",
            "end_time",
            "experiment_id",
            "name",
            "acc",
            "a.b",
            " ",
            " AND ",
            " OR ",
            "(",
            ")",
            ",",
            "=",
            "!=",
            "<>",
            "<",
            ">=",
            " LIKE ",
            " ILIKE ",
            " IN ",
            " NOT ",
            " IS ",
            " NULL ",
            "'x'",
            "'",
            "\"",
            "`",
            "''",
            "1",
            "-2.5",
            "1e",
            ".",
            "-",
            "+",
            "é",
            "☃",
            "\0",
            "--",
        ];
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for round in 0..20_000 {
            let input = if round % 2 == 0 {
                let len = rng.below(40);
                let bytes: Vec<u8> = (0..len).map(|_| (rng.next() & 0xff) as u8).collect();
                String::from_utf8_lossy(&bytes).into_owned()
            } else {
                let count = rng.below(12);
                (0..count)
                    .map(|_| fragments[rng.below(fragments.len())])
                    .collect()
            };
            check_never_panics(&input);
        }
    }
}
